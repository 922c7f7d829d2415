//! Attaching a program: to the hook its section names, or to one the
//! caller names (an interface, a cgroup, a perf event, a function of a
//! binary or of the kernel, a tracepoint). Every attach holds the object's
//! lock (libbpf changes object state while attaching some kinds) and every
//! failure names the program, the target, the errno and libbpf's reason.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
use std::ptr::NonNull;

use libbpf_sys as sys;

use super::Program;
use crate::error::{Error, Result};
use crate::link::{Kprobe, Link, PerfEventFd, Uprobe, Usdt};
use crate::os::errno::{code_of, last_error, ENOTSUPP};
use crate::os::perf_event;
use crate::os::tracefs::KprobeEvent;
use crate::{print, section};

impl Program {
    /// Attaches the program to the hook its section names, such as
    /// `tp/syscalls/sys_enter_execve`, `fentry/do_unlinkat` or `iter/task`;
    /// an `sk_lookup` or `flow_dissector` program attaches to the network
    /// namespace of the calling thread.
    ///
    /// Fails with [`Error::NoHook`] when the section names none (`xdp`,
    /// `socket`, a bare `uprobe`, ...), and [`Error::NotLoaded`] when the
    /// program was not loaded.
    pub fn attach(&self) -> Result<Link> {
        if self.libbpf().is_none() {
            return Err(Error::Attach {
                program: self.name.clone(),
                target: "the hook of its section".to_owned(),
                source: io::Error::from_raw_os_error(libc::EINVAL),
                reason: "a program of no object has no section to name its hook: attach it to an \
                         explicit target (attach_xdp, attach_tracepoint, ...)"
                    .to_owned(),
            });
        }
        if !section::names_hook(&self.section) {
            return Err(Error::NoHook {
                program: self.name.clone(),
                section: self.section.clone(),
            });
        }
        if section::attaches_to_own_netns(&self.section) {
            return self.attach_own_netns();
        }
        let target = format!("the hook of its section `{}`", self.section);
        // A USDT link is a set of uprobes, with no descriptor of its own.
        let own_fd = !self.section.starts_with("usdt");
        // SAFETY: a loaded program of a live object, under the object's lock.
        self.attach_with(target, own_fd, |p| unsafe { sys::bpf_program__attach(p) })
    }

    /// Attaches an `xdp` program to the network interface `ifindex` (the
    /// kernel picks native or generic mode).
    pub fn attach_xdp(&self, ifindex: u32) -> Result<Link> {
        let target = format!("XDP of interface {}", interface(ifindex));
        if self.libbpf().is_none() {
            return self.xdp_by_fd(ifindex, target);
        }
        // SAFETY: as in `attach`.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_xdp(p, ifindex as i32)
        })
    }

    /// Attaches a `tcx/ingress` or `tcx/egress` program to the interface
    /// `ifindex`, after the programs already there.
    pub fn attach_tcx(&self, ifindex: u32) -> Result<Link> {
        let target = format!("tcx of interface {}", interface(ifindex));
        if self.libbpf().is_none() {
            return self.tcx_by_fd(ifindex, target);
        }
        // SAFETY: as in `attach`; NULL options take libbpf's defaults.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_tcx(p, ifindex as i32, std::ptr::null())
        })
    }

    /// Attaches a `cgroup*` program (`cgroup_skb/egress`, `cgroup/connect4`,
    /// ...) to the cgroup v2 directory opened as `cgroup`.
    pub fn attach_cgroup(&self, cgroup: impl AsFd) -> Result<Link> {
        let fd = cgroup.as_fd().as_raw_fd();
        if self.libbpf().is_none() {
            return self.cgroup_by_fd(fd, "a cgroup".to_owned());
        }
        // SAFETY: as in `attach`; the cgroup fd is open for the call.
        self.attach_with("a cgroup".to_owned(), true, |p| unsafe {
            sys::bpf_program__attach_cgroup(p, fd)
        })
    }

    /// Attaches a `perf_event` program (or a `tracepoint`, `kprobe` or
    /// `uprobe` program, to an event of its kind) to an open perf event
    /// ([`PerfEventSpec::open`](crate::link::PerfEventSpec::open), or any perf
    /// event descriptor); the link
    /// owns the event from here on and closes it when dropped.
    ///
    /// ```no_run
    /// use ebpf_skeleton::link::{PerfEventSpec, SoftwareEvent};
    /// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
    /// let clock = PerfEventSpec::software(SoftwareEvent::CpuClock).sample_period(1_000_000);
    /// let _link = program.attach_perf_event(clock.open()?)?; // every ms of this thread's time
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn attach_perf_event(&self, event: impl Into<PerfEventFd>) -> Result<Link> {
        let event = event.into();
        self.fd()?;
        let target = event.describe().to_owned();
        if self.libbpf().is_none() {
            return self.perf_event_by_fd(event.into(), target);
        }
        let fd = OwnedFd::from(event).into_raw_fd();
        // SAFETY: as in `attach`; libbpf takes the fd over on success.
        let link = self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_perf_event(p, fd)
        });
        if link.is_err() {
            // SAFETY: the fd was released from `event` above and libbpf did
            // not take it: it is still ours to close.
            unsafe { libc::close(fd) };
        }
        link
    }

    /// Attaches a `uprobe` or `uretprobe` program to a function of an ELF
    /// binary, as `probe` says.
    pub fn attach_uprobe(&self, probe: &Uprobe) -> Result<Link> {
        let target = probe.describe();
        let binary = self.c_string(&target, probe.binary.as_os_str().as_encoded_bytes())?;
        let function = match &probe.function {
            Some(f) => Some(self.c_string(&target, f.as_bytes())?),
            None => None,
        };
        let opts = sys::bpf_uprobe_opts {
            sz: size_of::<sys::bpf_uprobe_opts>() as _,
            retprobe: probe.retprobe,
            func_name: function.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
            bpf_cookie: probe.cookie,
            ref_ctr_offset: probe.ref_ctr_offset as _,
            ..Default::default()
        };
        let pid = probe.pid.unwrap_or(-1);
        let offset = probe.offset as _;
        // SAFETY: as in `attach`; the strings and options live across the call.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_uprobe_opts(p, pid, binary.as_ptr(), offset, &opts)
        })
    }

    /// Attaches a `usdt` program to a USDT probe of an ELF binary, as
    /// `probe` says. The link is a set of uprobes with no BPF link
    /// descriptor of its own ([`Link::fd`] is `None`).
    pub fn attach_usdt(&self, probe: &Usdt) -> Result<Link> {
        let target = probe.describe();
        let binary = self.c_string(&target, probe.binary.as_os_str().as_encoded_bytes())?;
        let provider = self.c_string(&target, probe.provider.as_bytes())?;
        let name = self.c_string(&target, probe.name.as_bytes())?;
        let opts = sys::bpf_usdt_opts {
            sz: size_of::<sys::bpf_usdt_opts>() as _,
            usdt_cookie: probe.cookie,
        };
        let pid = probe.pid.unwrap_or(-1);
        // SAFETY: as in `attach`; the strings and options live across the call.
        self.attach_with(target, false, |p| unsafe {
            sys::bpf_program__attach_usdt(
                p,
                pid,
                binary.as_ptr(),
                provider.as_ptr(),
                name.as_ptr(),
                &opts,
            )
        })
    }

    /// Attaches a `tracepoint` program to the tracepoint `category:name`
    /// (as listed under /sys/kernel/tracing/events).
    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<Link> {
        let target = format!("tracepoint `{category}:{name}`");
        let (c_category, c_name) = (
            self.c_string(&target, category.as_bytes())?,
            self.c_string(&target, name.as_bytes())?,
        );
        if self.libbpf().is_none() {
            return self.tracepoint_by_fd(category, name, target);
        }
        // SAFETY: as in `attach`; the strings live across the call.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_tracepoint(p, c_category.as_ptr(), c_name.as_ptr())
        })
    }

    /// Attaches a `raw_tp` program to the raw tracepoint `name`.
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link> {
        let target = format!("raw tracepoint `{name}`");
        let c_name = self.c_string(&target, name.as_bytes())?;
        if self.libbpf().is_none() {
            return self.raw_tracepoint_by_fd(&c_name, target);
        }
        // SAFETY: as in `attach`; the string lives across the call.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_raw_tracepoint(p, c_name.as_ptr())
        })
    }

    /// Attaches a `kprobe` or `kretprobe` program to a kernel function, as
    /// `probe` says. Kernels built without kprobes refuse with an error that
    /// says so.
    pub fn attach_kprobe(&self, probe: &Kprobe) -> Result<Link> {
        let target = probe.describe();
        if probe.retprobe && probe.maxactive > 0 {
            return self.kretprobe_with_maxactive(probe, target);
        }
        let function = self.c_string(&target, probe.function.as_bytes())?;
        let opts = sys::bpf_kprobe_opts {
            sz: size_of::<sys::bpf_kprobe_opts>() as _,
            retprobe: probe.retprobe,
            offset: probe.offset as _,
            bpf_cookie: probe.cookie,
            ..Default::default()
        };
        // SAFETY: as in `attach`; the string and options live across the call.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_kprobe_opts(p, function.as_ptr(), &opts)
        })
    }

    /// A kretprobe made through tracefs with its `maxactive`, attached
    /// through a perf event of it; the event goes with the link.
    fn kretprobe_with_maxactive(&self, probe: &Kprobe, target: String) -> Result<Link> {
        let fail = |source: io::Error| self.attach_error(target.clone(), source, &[]);
        let event =
            KprobeEvent::kretprobe(&probe.function, probe.offset, probe.maxactive).map_err(fail)?;
        let perf = perf_event::open_tracepoint("kprobes", event.name()).map_err(fail)?;
        let fd = perf.into_raw_fd();
        let opts = sys::bpf_perf_event_opts {
            sz: size_of::<sys::bpf_perf_event_opts>() as _,
            bpf_cookie: probe.cookie,
            ..Default::default()
        };
        // SAFETY: as in `attach`; libbpf takes the fd over on success.
        let link = self.attach_with(target.clone(), true, |p| unsafe {
            sys::bpf_program__attach_perf_event_opts(p, fd, &opts)
        });
        if link.is_err() {
            // SAFETY: the fd was released from `perf` above and libbpf did
            // not take it: it is still ours to close.
            unsafe { libc::close(fd) };
        }
        Ok(link?.with_event(event))
    }

    /// Runs one libbpf attach call for this program with the object's lock
    /// held and libbpf's messages captured, and wraps the link it returns
    /// (NULL: the error, with `target` and libbpf's reason).
    pub(super) fn attach_with(
        &self,
        target: String,
        own_fd: bool,
        attach: impl FnOnce(*mut sys::bpf_program) -> *mut sys::bpf_link,
    ) -> Result<Link> {
        self.fd()?;
        let Some((object, ptr)) = self.libbpf() else {
            return Err(Error::Attach {
                program: self.name.clone(),
                target,
                source: io::Error::from(io::ErrorKind::Unsupported),
                reason: "a program of no object (loaded from instructions, or opened by \
                         descriptor) cannot attach to kprobes, uprobes or USDT probes yet"
                    .into(),
            });
        };
        let ((link, errno), warnings) = {
            let _guard = object.lock();
            print::capture(|| {
                let link = attach(ptr.as_ptr());
                (link, link.is_null().then(last_error))
            })
        };
        match (NonNull::new(link), errno) {
            (Some(link), _) => Ok(Link::from_libbpf(
                link,
                self.name.clone(),
                target,
                own_fd,
                Some(object.clone()),
            )),
            (None, errno) => {
                let source = errno.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EINVAL));
                Err(self.attach_error(target, source, &warnings))
            }
        }
    }

    fn attach_error(&self, target: String, source: io::Error, warnings: &[String]) -> Error {
        let mut reasons: Vec<String> = warnings
            .iter()
            .map(|w| w.strip_prefix("libbpf: ").unwrap_or(w).to_owned())
            .collect();
        if let Some(hint) = attach_hint(&self.section, &target, &source) {
            reasons.push(hint);
        }
        Error::Attach {
            program: self.name.clone(),
            target,
            source,
            reason: reasons.join("; "),
        }
    }

    /// `bytes` as a C string; one holding a NUL byte is an attach error
    /// naming the target.
    pub(super) fn c_string(&self, target: &str, bytes: &[u8]) -> Result<CString> {
        CString::new(bytes).map_err(|e| Error::Attach {
            program: self.name.clone(),
            target: target.to_owned(),
            source: io::Error::from_raw_os_error(libc::EINVAL),
            reason: format!("the name holds a NUL byte at byte {}", e.nul_position()),
        })
    }
}

/// A likely cause of an attach failure, for the error message.
pub(super) fn attach_hint(section: &str, target: &str, err: &io::Error) -> Option<String> {
    let code = code_of(err)?;
    let missing = matches!(
        code,
        libc::ENOENT | libc::EOPNOTSUPP | ENOTSUPP | libc::EINVAL
    );
    let denied = matches!(code, libc::EACCES | libc::EPERM);
    let tracing = target.starts_with("tracepoint")
        || section.starts_with("tp/")
        || section.starts_with("tracepoint/");
    let kprobe = target.starts_with("kprobe")
        || target.starts_with("kretprobe")
        || section::is_kprobe(section);
    if kprobe && missing {
        return Some(
            "this kernel may lack kprobe support (CONFIG_KPROBES, CONFIG_KPROBE_EVENTS)".into(),
        );
    }
    if tracing && missing && !tracefs_mounted() {
        return Some(
            "tracefs is not mounted at /sys/kernel/tracing (mount -t tracefs tracefs /sys/kernel/tracing)".into(),
        );
    }
    if tracing && denied && !tracefs_readable() {
        return Some(
            "this process cannot read tracefs (/sys/kernel/tracing), where the tracepoint's id is: \
             run as root, or give it access to /sys/kernel/tracing"
                .into(),
        );
    }
    if target.starts_with("tcx") && missing {
        return tcx_missing();
    }
    None
}

/// On a kernel older than 6.6, which has no tcx, what to do instead.
pub(super) fn tcx_missing() -> Option<String> {
    kernel_release()
        .filter(|r| older_than(r, (6, 6)))
        .map(|release| {
            format!(
                "tcx needs Linux 6.6 or later and this kernel is {release}: attach with legacy tc instead"
            )
        })
}

/// On a kernel older than 5.13, which has no `sk_skb_verdict` hook, what
/// to do instead.
pub(super) fn sk_skb_verdict_missing() -> Option<String> {
    kernel_release()
        .filter(|r| older_than(r, (5, 13)))
        .map(|release| {
            format!(
                "the sk_skb_verdict hook needs Linux 5.13 or later and this kernel is {release}: \
                 attach a stream parser and a stream verdict instead"
            )
        })
}

fn tracefs_mounted() -> bool {
    std::path::Path::new("/sys/kernel/tracing/events").exists()
}

fn tracefs_readable() -> bool {
    std::fs::read_dir("/sys/kernel/tracing/events").is_ok()
}

/// `uname -r`.
pub(super) fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|r| r.trim().to_owned())
}

/// Whether the kernel release `release` (e.g. `6.1.0-28-amd64`) is older
/// than `major.minor`.
pub(super) fn older_than(release: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    match (parts.next(), parts.next()) {
        (Some(a), Some(b)) => (a, b) < (major, minor),
        _ => false,
    }
}

/// An interface by index, with its name when it has one.
pub(super) fn interface(ifindex: u32) -> String {
    let mut buf = [0u8; libc::IF_NAMESIZE];
    // SAFETY: `buf` holds IF_NAMESIZE bytes, as if_indextoname requires.
    let name = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr().cast()) };
    if name.is_null() {
        return format!("index {ifindex}");
    }
    let name = std::ffi::CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("`{name}` (index {ifindex})")
}

#[cfg(test)]
mod tests {
    use super::older_than;

    #[test]
    fn kernel_releases_compare() {
        assert!(older_than("6.1.0-28-amd64", (6, 6)));
        assert!(older_than("5.10.226", (6, 6)));
        assert!(!older_than("6.6.0", (6, 6)));
        assert!(!older_than("6.18.44-fc-v669", (6, 6)));
        assert!(!older_than("garbage", (6, 6)));
    }
}
