//! Links: a program attached to a hook, detached on drop; and what a hook
//! is asked for ([`Kprobe`], [`Uprobe`], [`Usdt`]).

mod probe;

pub use probe::{Kprobe, Uprobe, Usdt};

use std::ffi::CString;
use std::os::fd::{BorrowedFd, RawFd};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::handle::ObjectHandle;
use crate::os::errno::check;
use crate::os::fd::{kind_of, ObjectKind};

/// A program attached to its hook. Dropping the link detaches the program
/// (unless the link was pinned, which keeps it in the kernel).
#[must_use = "dropping a link detaches its program"]
pub struct Link {
    ptr: NonNull<sys::bpf_link>,
    program: String,
    target: String,
    /// The link's own BPF link descriptor, if it has one: USDT links (made
    /// of several uprobes) and perf-event links on kernels without BPF perf
    /// links have none.
    fd: Option<RawFd>,
    /// Keeps the object of the attached program open as long as the link,
    /// so no link can refer to a freed program; its lock serialises the
    /// detach, which can change object state (a USDT link's spec ids).
    object: Option<Arc<ObjectHandle>>,
}

// SAFETY: the link is libbpf memory that only this value uses. Through
// `&self` it is only read (the cached fd, names); pinning takes `&mut self`;
// it is destroyed once, in `Drop`, under the object's lock.
unsafe impl Send for Link {}
// SAFETY: as above.
unsafe impl Sync for Link {}

impl Link {
    /// Wraps a link libbpf made for `program`. `own_fd` says whether the link
    /// can have a BPF link descriptor at all (USDT links cannot).
    pub(crate) fn new(
        ptr: NonNull<sys::bpf_link>,
        program: String,
        target: String,
        own_fd: bool,
        object: Option<Arc<ObjectHandle>>,
    ) -> Self {
        // SAFETY: a live link.
        let raw = unsafe { sys::bpf_link__fd(ptr.as_ptr()) };
        let fd = (own_fd && raw >= 0)
            .then_some(raw)
            // SAFETY: libbpf keeps `raw` open as long as the link.
            .filter(|&raw| {
                kind_of(unsafe { BorrowedFd::borrow_raw(raw) }) != Some(ObjectKind::Other)
            });
        Link {
            ptr,
            program,
            target,
            fd,
            object,
        }
    }

    /// The name of the attached program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// What the program is attached to, e.g. "tracepoint `sched:sched_switch`".
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The link's BPF link descriptor, valid while `self` lives; `None` for
    /// links that have none of their own (a USDT link is several uprobes; a
    /// perf-event link on a kernel without BPF perf links is the event).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        // SAFETY: libbpf keeps the fd open until `bpf_link__destroy` in Drop.
        self.fd.map(|fd| unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// Pins the link at `path` in bpffs, so that it stays attached after
    /// this process exits. Links without a descriptor of their own cannot
    /// be pinned.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = format!(
            "pinning the link of program `{}` ({}) at {}",
            self.program,
            self.target,
            path.display()
        );
        if self.fd.is_none() {
            return Err(Error::sys(
                what,
                std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "this link has no BPF link descriptor of its own to pin",
                ),
            ));
        }
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| Error::sys(what.clone(), std::io::Error::other(e)))?;
        // SAFETY: the link is live and the path a valid C string.
        let ret = unsafe { sys::bpf_link__pin(self.ptr.as_ptr(), c_path.as_ptr()) };
        check(ret).map_err(|source| Error::sys(what, source))?;
        Ok(())
    }

    /// Detaches the program now; the same as dropping the link.
    pub fn detach(self) {}
}

impl Drop for Link {
    fn drop(&mut self) {
        let _guard = self.object.as_deref().map(ObjectHandle::lock);
        // SAFETY: the link came from libbpf and is destroyed only here, with
        // its object's lock held.
        unsafe { sys::bpf_link__destroy(self.ptr.as_ptr()) };
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("program", &self.program)
            .field("target", &self.target)
            .field("fd", &self.fd)
            .finish()
    }
}
