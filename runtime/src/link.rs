//! Links: a program attached to a hook, detached on drop.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use crate::error::{check, Error, Result};
use crate::object::Inner;

/// A program attached to its hook. Dropping the link detaches the program
/// (unless the link was pinned, which keeps it in the kernel).
pub struct Link {
    ptr: NonNull<sys::bpf_link>,
    program: String,
    /// Keeps the object of the attached program open as long as the link,
    /// so no link can refer to a freed program.
    _object: Option<Arc<Inner>>,
}

// SAFETY: a link is only read (fd) through `&self`, and destroyed once in
// `Drop`, which needs the value itself.
unsafe impl Send for Link {}
unsafe impl Sync for Link {}

impl Link {
    pub(crate) fn new(
        ptr: NonNull<sys::bpf_link>,
        program: String,
        object: Option<Arc<Inner>>,
    ) -> Self {
        Link {
            ptr,
            program,
            _object: object,
        }
    }

    /// The name of the attached program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Pins the link at `path` in bpffs, so that it stays attached after
    /// this process exits.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = || {
            format!(
                "pinning link of program `{}` at {}",
                self.program,
                path.display()
            )
        };
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| Error::sys(what(), std::io::Error::other(e)))?;
        // SAFETY: the link is live and the path a valid C string.
        let ret = unsafe { sys::bpf_link__pin(self.ptr.as_ptr(), c_path.as_ptr()) };
        check(ret).map_err(|source| Error::sys(what(), source))?;
        Ok(())
    }

    /// Detaches the program now; the same as dropping the link.
    pub fn detach(self) {}
}

impl AsFd for Link {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: libbpf keeps the fd open until `bpf_link__destroy` in Drop.
        unsafe { BorrowedFd::borrow_raw(sys::bpf_link__fd(self.ptr.as_ptr())) }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // SAFETY: the link came from libbpf and is destroyed only here.
        unsafe { sys::bpf_link__destroy(self.ptr.as_ptr()) };
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("program", &self.program)
            .finish()
    }
}
