//! Attaching a program to a hook the caller names: an interface, a cgroup,
//! a perf event, a function of a binary. For programs whose section names
//! no hook of its own (`xdp`, `tcx/ingress`, `cgroup_skb/egress`, a bare
//! `uprobe` or `tracepoint`, ...), and to attach one program more than once.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
use std::path::Path;

use libbpf_sys as sys;

use super::Program;
use crate::error::{Error, Result};
use crate::link::Link;

/// Which process a uprobe fires in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UprobeTarget {
    /// Every process running the binary.
    AllProcesses,
    /// Only this process.
    Pid(i32),
}

impl Program {
    /// Attaches an `xdp` program to the network interface `ifindex` (the
    /// kernel picks native or generic mode).
    pub fn attach_xdp(&self, ifindex: u32) -> Result<Link> {
        self.fd()?;
        // SAFETY: a loaded program of a live object.
        self.link(unsafe { sys::bpf_program__attach_xdp(self.ptr.as_ptr(), ifindex as i32) })
    }

    /// Attaches a `tcx/ingress` or `tcx/egress` program to the interface
    /// `ifindex`, after the programs already there.
    pub fn attach_tcx(&self, ifindex: u32) -> Result<Link> {
        self.fd()?;
        // SAFETY: as above; NULL options take libbpf's defaults.
        self.link(unsafe {
            sys::bpf_program__attach_tcx(self.ptr.as_ptr(), ifindex as i32, std::ptr::null())
        })
    }

    /// Attaches a `cgroup*` program (`cgroup_skb/egress`, `cgroup/connect4`,
    /// ...) to the cgroup v2 directory opened as `cgroup`.
    pub fn attach_cgroup(&self, cgroup: impl AsFd) -> Result<Link> {
        self.fd()?;
        let fd = cgroup.as_fd().as_raw_fd();
        // SAFETY: as above; the cgroup fd is open for the call.
        self.link(unsafe { sys::bpf_program__attach_cgroup(self.ptr.as_ptr(), fd) })
    }

    /// Attaches a `perf_event` program to an open perf event; the link owns
    /// the event from here on and closes it when dropped.
    pub fn attach_perf_event(&self, event: OwnedFd) -> Result<Link> {
        self.fd()?;
        let fd = event.into_raw_fd();
        // SAFETY: as above; libbpf takes the fd over on success.
        let link = unsafe { sys::bpf_program__attach_perf_event(self.ptr.as_ptr(), fd) };
        if link.is_null() {
            // On failure the fd is still ours to close.
            let err = crate::error::last_error();
            // SAFETY: the fd was released from `event` above and not taken.
            unsafe { libc::close(fd) };
            return Err(self.attach_error(err));
        }
        self.link(link)
    }

    /// Attaches a `uprobe` (or, with `retprobe`, a `uretprobe`) program to
    /// `function` of the ELF `binary` (an executable or shared library).
    pub fn attach_uprobe(
        &self,
        retprobe: bool,
        target: UprobeTarget,
        binary: impl AsRef<Path>,
        function: &str,
    ) -> Result<Link> {
        self.fd()?;
        let binary = c_string(&self.name, binary.as_ref().as_os_str().as_encoded_bytes())?;
        let function = c_string(&self.name, function.as_bytes())?;
        let opts = sys::bpf_uprobe_opts {
            sz: size_of::<sys::bpf_uprobe_opts>() as _,
            retprobe,
            func_name: function.as_ptr(),
            ..Default::default()
        };
        let pid = match target {
            UprobeTarget::AllProcesses => -1,
            UprobeTarget::Pid(pid) => pid,
        };
        // SAFETY: as above; the strings live across the call.
        self.link(unsafe {
            sys::bpf_program__attach_uprobe_opts(self.ptr.as_ptr(), pid, binary.as_ptr(), 0, &opts)
        })
    }

    /// Attaches a `tracepoint` program to the tracepoint `category:name`
    /// (as listed under /sys/kernel/tracing/events).
    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<Link> {
        self.fd()?;
        let (category, name) = (
            c_string(&self.name, category.as_bytes())?,
            c_string(&self.name, name.as_bytes())?,
        );
        // SAFETY: as above; the strings live across the call.
        self.link(unsafe {
            sys::bpf_program__attach_tracepoint(self.ptr.as_ptr(), category.as_ptr(), name.as_ptr())
        })
    }

    /// Attaches a `raw_tp` program to the raw tracepoint `name`.
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link> {
        self.fd()?;
        let name = c_string(&self.name, name.as_bytes())?;
        // SAFETY: as above; the string lives across the call.
        self.link(unsafe {
            sys::bpf_program__attach_raw_tracepoint(self.ptr.as_ptr(), name.as_ptr())
        })
    }

    /// Attaches a `kprobe` (or, with `retprobe`, a `kretprobe`) program to
    /// the kernel function `function`. Kernels built without kprobes refuse
    /// with an error that says so.
    pub fn attach_kprobe(&self, retprobe: bool, function: &str) -> Result<Link> {
        self.fd()?;
        let function = c_string(&self.name, function.as_bytes())?;
        // SAFETY: as above; the string lives across the call.
        self.link(unsafe {
            sys::bpf_program__attach_kprobe(self.ptr.as_ptr(), retprobe, function.as_ptr())
        })
    }
}

fn c_string(program: &str, bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).map_err(|e| Error::Attach {
        program: program.to_owned(),
        section: String::new(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        hint: "",
    })
}
