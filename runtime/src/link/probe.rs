//! What a kprobe or uprobe attaches to.

use std::path::{Path, PathBuf};

/// A kernel function to probe: at its entry (`kprobe`) or return
/// (`kretprobe`).
///
/// ```no_run
/// use ebpf_skeleton::link::Kprobe;
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let _link = program.attach_kprobe(&Kprobe::entry("do_unlinkat").cookie(7))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kprobe {
    pub(crate) function: String,
    pub(crate) retprobe: bool,
    pub(crate) offset: u64,
    pub(crate) cookie: u64,
    pub(crate) maxactive: u32,
}

impl Kprobe {
    /// The entry of `function`.
    pub fn entry(function: impl Into<String>) -> Self {
        Kprobe {
            function: function.into(),
            retprobe: false,
            offset: 0,
            cookie: 0,
            maxactive: 0,
        }
    }

    /// The return of `function` (a kretprobe).
    pub fn ret(function: impl Into<String>) -> Self {
        Kprobe {
            retprobe: true,
            ..Self::entry(function)
        }
    }

    /// Probes `offset` bytes into the function instead of its entry.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// A value the program reads with `bpf_get_attach_cookie`.
    pub fn cookie(mut self, cookie: u64) -> Self {
        self.cookie = cookie;
        self
    }

    /// For a kretprobe: how many calls of the function it follows at once
    /// (calls beyond that return unseen; the kernel's default depends on
    /// the CPU count). The kernel's kprobe PMU takes no such setting, so
    /// the probe is made through tracefs (`kprobe_events`) and removed
    /// with the link.
    pub fn maxactive(mut self, maxactive: u32) -> Self {
        self.maxactive = maxactive;
        self
    }

    pub(crate) fn describe(&self) -> String {
        let kind = if self.retprobe { "kretprobe" } else { "kprobe" };
        match self.offset {
            0 => format!("{kind} `{}`", self.function),
            off => format!("{kind} `{}+{off:#x}`", self.function),
        }
    }
}

/// A function of an ELF binary (an executable or a shared library) to
/// probe: at its entry (`uprobe`) or return (`uretprobe`), in every process
/// running it or in one.
///
/// ```no_run
/// use ebpf_skeleton::link::Uprobe;
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let _link = program.attach_uprobe(&Uprobe::entry("/bin/bash").function("readline"))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uprobe {
    pub(crate) binary: PathBuf,
    pub(crate) function: Option<String>,
    pub(crate) offset: u64,
    pub(crate) retprobe: bool,
    pub(crate) pid: Option<i32>,
    pub(crate) cookie: u64,
    pub(crate) ref_ctr_offset: u64,
}

impl Uprobe {
    /// The entry of a function of `binary` (name it with
    /// [`Uprobe::function`], or give its offset with [`Uprobe::offset`]).
    pub fn entry(binary: impl AsRef<Path>) -> Self {
        Uprobe {
            binary: binary.as_ref().to_owned(),
            function: None,
            offset: 0,
            retprobe: false,
            pid: None,
            cookie: 0,
            ref_ctr_offset: 0,
        }
    }

    /// The return of a function of `binary` (a uretprobe).
    pub fn ret(binary: impl AsRef<Path>) -> Self {
        Uprobe {
            retprobe: true,
            ..Self::entry(binary)
        }
    }

    /// The function, by its symbol name (libbpf finds it in the binary).
    pub fn function(mut self, name: impl Into<String>) -> Self {
        self.function = Some(name.into());
        self
    }

    /// The offset in the file (with a function: from the function's start).
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// Fires only in the process `pid` (by default: every process).
    pub fn pid(mut self, pid: i32) -> Self {
        self.pid = Some(pid);
        self
    }

    /// A value the program reads with `bpf_get_attach_cookie`.
    pub fn cookie(mut self, cookie: u64) -> Self {
        self.cookie = cookie;
        self
    }

    /// The offset of a reference counter (a USDT semaphore) the kernel
    /// increments while the probe is attached.
    pub fn ref_ctr_offset(mut self, offset: u64) -> Self {
        self.ref_ctr_offset = offset;
        self
    }

    pub(crate) fn describe(&self) -> String {
        let kind = if self.retprobe { "uretprobe" } else { "uprobe" };
        let place = match (&self.function, self.offset) {
            (Some(f), 0) => f.clone(),
            (Some(f), off) => format!("{f}+{off:#x}"),
            (None, off) => format!("{off:#x}"),
        };
        let pid = self
            .pid
            .map(|p| format!(" in process {p}"))
            .unwrap_or_default();
        format!("{kind} `{}:{place}`{pid}", self.binary.display())
    }
}

/// A USDT probe (a statically defined tracepoint of a user-space binary,
/// `DTRACE_PROBE`/`STAP_PROBE` in C) to attach a `usdt` program to.
///
/// ```no_run
/// use ebpf_skeleton::link::Usdt;
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let _link = program.attach_usdt(&Usdt::new("/usr/bin/python3", "python", "function__entry"))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// A probe with a semaphore (one enabled only while attached) has it
/// counted by the kernel in every process that runs the binary, those
/// started after the attach included. For the latter the kernel counts it
/// in the first writable mapping of the semaphore's page of the file: a
/// binary whose RELRO and data segments share a file page (lld's default
/// layout) gets the count in the wrong copy and sees its probe disabled.
/// Link such binaries with `-z separate-loadable-segments`, as this
/// crate's tests link theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usdt {
    pub(crate) binary: PathBuf,
    pub(crate) provider: String,
    pub(crate) name: String,
    pub(crate) pid: Option<i32>,
    pub(crate) cookie: u64,
}

impl Usdt {
    /// The probe `provider:name` of `binary`.
    pub fn new(
        binary: impl AsRef<Path>,
        provider: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Usdt {
            binary: binary.as_ref().to_owned(),
            provider: provider.into(),
            name: name.into(),
            pid: None,
            cookie: 0,
        }
    }

    /// Fires only in the process `pid` (by default: every process).
    pub fn pid(mut self, pid: i32) -> Self {
        self.pid = Some(pid);
        self
    }

    /// A value the program reads with `bpf_usdt_cookie`.
    pub fn cookie(mut self, cookie: u64) -> Self {
        self.cookie = cookie;
        self
    }

    pub(crate) fn describe(&self) -> String {
        let pid = self
            .pid
            .map(|p| format!(" in process {p}"))
            .unwrap_or_default();
        format!(
            "USDT probe `{}:{}` of {}{pid}",
            self.provider,
            self.name,
            self.binary.display()
        )
    }
}

/// What kind of probe a set of probes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum MultiKind {
    #[default]
    Entry,
    Return,
    /// One program at entry and return, which can skip the return
    /// (`bpf_session_is_return`, `bpf_session_cookie`).
    Session,
}

impl MultiKind {
    fn describe(self, base: &str) -> String {
        match self {
            MultiKind::Entry => base.to_owned(),
            MultiKind::Return => base.replacen("probe", "retprobe", 1),
            MultiKind::Session => format!("{} session", base),
        }
    }
}

/// Many kernel functions probed by one link (`kprobe.multi`,
/// `kretprobe.multi`, `kprobe.session`; Linux 5.18, sessions 6.10): by a
/// glob pattern over the kernel's functions, by symbols, or by addresses,
/// each with its own cookie if given.
///
/// ```no_run
/// use ebpf_skeleton::link::KprobeMulti;
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let _link = program.attach_kprobe_multi(&KprobeMulti::pattern("tcp_v4_*"))?;
/// let _two = program.attach_kprobe_multi(
///     &KprobeMulti::symbols(["do_unlinkat", "do_rmdir"]).cookies([1, 2]),
/// )?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KprobeMulti {
    pub(crate) pattern: Option<String>,
    pub(crate) symbols: Vec<String>,
    pub(crate) addresses: Vec<u64>,
    pub(crate) cookies: Vec<u64>,
    pub(crate) kind: MultiKind,
}

impl KprobeMulti {
    /// Every kernel function whose name matches the glob `pattern` (`*`
    /// and `?`), as /sys/kernel/tracing/available_filter_functions lists
    /// them.
    pub fn pattern(pattern: impl Into<String>) -> Self {
        KprobeMulti {
            pattern: Some(pattern.into()),
            ..Self::default()
        }
    }

    /// The functions named.
    pub fn symbols<S: Into<String>>(symbols: impl IntoIterator<Item = S>) -> Self {
        KprobeMulti {
            symbols: symbols.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The functions at these kernel addresses (from /proc/kallsyms).
    pub fn addresses(addresses: impl IntoIterator<Item = u64>) -> Self {
        KprobeMulti {
            addresses: addresses.into_iter().collect(),
            ..Self::default()
        }
    }

    /// One cookie per symbol or address, in their order, which the program
    /// reads with `bpf_get_attach_cookie` (not with a pattern).
    pub fn cookies(mut self, cookies: impl IntoIterator<Item = u64>) -> Self {
        self.cookies = cookies.into_iter().collect();
        self
    }

    /// At the functions' return instead of their entry.
    pub fn retprobe(mut self) -> Self {
        self.kind = MultiKind::Return;
        self
    }

    /// At entry and return, with one program of section `kprobe.session`.
    pub fn session(mut self) -> Self {
        self.kind = MultiKind::Session;
        self
    }

    pub(crate) fn describe(&self) -> String {
        let what = match (&self.pattern, self.symbols.len(), self.addresses.len()) {
            (Some(p), _, _) => format!("`{p}`"),
            (None, 0, n) => format!("{n} addresses"),
            (None, 1, _) => format!("`{}`", self.symbols[0]),
            (None, n, _) => format!("{n} functions (`{}`, ...)", self.symbols[0]),
        };
        format!("{} {what}", self.kind.describe("kprobe_multi"))
    }
}

/// Many places of one ELF binary probed by one link (`uprobe.multi`,
/// `uretprobe.multi`, `uprobe.session`; Linux 6.6, sessions 6.13): by a
/// glob pattern over the binary's functions, by symbols, or by offsets, each
/// with its own cookie and reference counter if given.
///
/// ```no_run
/// use ebpf_skeleton::link::UprobeMulti;
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let _link = program.attach_uprobe_multi(&UprobeMulti::pattern("libc.so.6", "malloc*"))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UprobeMulti {
    pub(crate) binary: PathBuf,
    pub(crate) pattern: Option<String>,
    pub(crate) symbols: Vec<String>,
    pub(crate) offsets: Vec<u64>,
    pub(crate) ref_ctr_offsets: Vec<u64>,
    pub(crate) cookies: Vec<u64>,
    pub(crate) pid: Option<i32>,
    pub(crate) kind: MultiKind,
}

impl UprobeMulti {
    fn new(binary: impl AsRef<Path>) -> Self {
        UprobeMulti {
            binary: binary.as_ref().to_owned(),
            pattern: None,
            symbols: Vec::new(),
            offsets: Vec::new(),
            ref_ctr_offsets: Vec::new(),
            cookies: Vec::new(),
            pid: None,
            kind: MultiKind::Entry,
        }
    }

    /// Every function of `binary` whose name matches the glob `pattern`.
    /// A binary given by a bare name (`libc.so.6`) is a shared library
    /// found as the dynamic loader finds it.
    pub fn pattern(binary: impl AsRef<Path>, pattern: impl Into<String>) -> Self {
        UprobeMulti {
            pattern: Some(pattern.into()),
            ..Self::new(binary)
        }
    }

    /// The functions of `binary` named.
    pub fn symbols<S: Into<String>>(
        binary: impl AsRef<Path>,
        symbols: impl IntoIterator<Item = S>,
    ) -> Self {
        UprobeMulti {
            symbols: symbols.into_iter().map(Into::into).collect(),
            ..Self::new(binary)
        }
    }

    /// The places at these offsets in the file `binary`.
    pub fn offsets(binary: impl AsRef<Path>, offsets: impl IntoIterator<Item = u64>) -> Self {
        UprobeMulti {
            offsets: offsets.into_iter().collect(),
            ..Self::new(binary)
        }
    }

    /// One cookie per symbol or offset, in their order, which the program
    /// reads with `bpf_get_attach_cookie` (not with a pattern).
    pub fn cookies(mut self, cookies: impl IntoIterator<Item = u64>) -> Self {
        self.cookies = cookies.into_iter().collect();
        self
    }

    /// One reference counter (USDT semaphore) offset per symbol or offset,
    /// which the kernel increments while the probe is attached.
    pub fn ref_ctr_offsets(mut self, offsets: impl IntoIterator<Item = u64>) -> Self {
        self.ref_ctr_offsets = offsets.into_iter().collect();
        self
    }

    /// Fires only in the process `pid` (by default: every process).
    pub fn pid(mut self, pid: i32) -> Self {
        self.pid = Some(pid);
        self
    }

    /// At the functions' return instead of their entry.
    pub fn retprobe(mut self) -> Self {
        self.kind = MultiKind::Return;
        self
    }

    /// At entry and return, with one program of section `uprobe.session`.
    pub fn session(mut self) -> Self {
        self.kind = MultiKind::Session;
        self
    }

    pub(crate) fn describe(&self) -> String {
        let what = match (&self.pattern, self.symbols.len(), self.offsets.len()) {
            (Some(p), _, _) => format!("`{p}`"),
            (None, 0, n) => format!("{n} offsets"),
            (None, 1, _) => format!("`{}`", self.symbols[0]),
            (None, n, _) => format!("{n} functions (`{}`, ...)", self.symbols[0]),
        };
        let pid = self
            .pid
            .map(|p| format!(" in process {p}"))
            .unwrap_or_default();
        format!(
            "{} {what} of {}{pid}",
            self.kind.describe("uprobe_multi"),
            self.binary.display()
        )
    }
}
