//! Shared memory mappings of kernel objects (ring buffers, perf rings,
//! data sections), unmapped on drop.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

/// The size of a memory page.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

/// A shared mapping of a file, unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; what may be done
// through it concurrently is up to the readers that hold it, which only
// access it through `&mut self` or atomics.
unsafe impl Send for Mmap {}
// SAFETY: as above; `&Mmap` only hands out the address.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Maps `len` bytes of `fd` at `offset`, shared; writable if `write`.
    pub(crate) fn new(
        fd: BorrowedFd<'_>,
        len: usize,
        offset: usize,
        write: bool,
    ) -> io::Result<Self> {
        Self::map(fd, len, offset, write, 0)
    }

    /// Maps `len` bytes of `fd` from its start, shared and writable, at the
    /// address `addr` (0: where the kernel likes), never over an existing
    /// mapping (`EEXIST` then).
    pub(crate) fn new_at(fd: BorrowedFd<'_>, len: usize, addr: usize) -> io::Result<Self> {
        Self::map(fd, len, 0, true, addr)
    }

    fn map(
        fd: BorrowedFd<'_>,
        len: usize,
        offset: usize,
        write: bool,
        addr: usize,
    ) -> io::Result<Self> {
        let prot = if write {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let flags = if addr == 0 {
            libc::MAP_SHARED
        } else {
            libc::MAP_SHARED | libc::MAP_FIXED_NOREPLACE
        };
        // SAFETY: a fresh mapping, where the kernel chooses or at `addr`
        // only if nothing is mapped there (MAP_FIXED_NOREPLACE): no existing
        // memory is affected. The result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len,
                prot,
                flags,
                fd.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        if addr != 0 && ptr as usize != addr {
            // A kernel older than MAP_FIXED_NOREPLACE (4.17) takes it as a
            // hint and may map elsewhere.
            if let Some(ptr) = NonNull::new(ptr.cast::<u8>()) {
                drop(Mmap { ptr, len });
            }
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        Ok(Mmap { ptr, len })
    }

    /// The start of the mapping.
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The length of the mapping in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: the mapping was created in `new` with this length and is
        // unmapped only here; nothing borrowed from it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// Private anonymous memory of `len` bytes that the kernel may write into
/// (a verifier log): reserved, not committed, so untouched pages cost
/// nothing. Unmapped on drop.
#[derive(Debug)]
pub(crate) struct Scratch {
    map: Mmap,
}

impl Scratch {
    pub(crate) fn new(len: usize) -> io::Result<Self> {
        // SAFETY: a fresh anonymous mapping chosen by the kernel; no
        // existing memory is affected. The result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        Ok(Scratch {
            map: Mmap { ptr, len },
        })
    }

    /// The start of the memory, for the kernel to write to.
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.map.ptr()
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.map.len
    }

    /// The bytes up to the first NUL (the text a C writer left there), at
    /// most the whole buffer. Only call once no one writes any more.
    pub(crate) fn c_text(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes, readable, and private to this
        // process; the kernel wrote it during a system call that is over.
        let bytes = unsafe { std::slice::from_raw_parts(self.map.ptr(), self.map.len) };
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        &bytes[..end]
    }

    /// Whether nothing was written at the start.
    pub(crate) fn is_untouched(&self) -> bool {
        // SAFETY: as in `c_text`; reading one byte of a fresh anonymous
        // page maps the shared zero page, it does not commit memory.
        unsafe { *self.map.ptr() == 0 }
    }
}
