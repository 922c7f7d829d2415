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
}

impl Kprobe {
    /// The entry of `function`.
    pub fn entry(function: impl Into<String>) -> Self {
        Kprobe {
            function: function.into(),
            retprobe: false,
            offset: 0,
            cookie: 0,
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
