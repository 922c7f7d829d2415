//! The system calls both readers build on: shared memory mappings, epoll,
//! poll(2), and the blocking wait for a record. Shared with
//! [`crate::perf`].

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::time::{Duration, Instant};

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
        let prot = if write {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a fresh mapping chosen by the kernel; no existing memory is
        // affected. The result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
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

/// An epoll instance whose events carry a `u64` token.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: a plain system call.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this fd to us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Epoll {
            fd,
            events: Vec::new(),
        })
    }

    /// Watches `fd` for input (level-triggered), reporting `token`.
    pub(crate) fn add(&mut self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: both fds are open; `event` is a valid epoll_event.
        let ret = unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        self.events.push(libc::epoll_event { events: 0, u64: 0 });
        Ok(())
    }

    /// Waits for events for at most `timeout` (forever if `None`), retrying
    /// when a signal interrupts the wait; calls `ready` with each token.
    /// Returns the number of events.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        mut ready: impl FnMut(u64),
    ) -> io::Result<usize> {
        if self.events.is_empty() {
            self.events.push(libc::epoll_event { events: 0, u64: 0 });
        }
        let deadline = Deadline::new(timeout);
        loop {
            // SAFETY: `events` is writable for its length.
            let n = unsafe {
                libc::epoll_wait(
                    self.fd.as_raw_fd(),
                    self.events.as_mut_ptr(),
                    self.events.len().min(i32::MAX as usize) as i32,
                    deadline.remaining_ms(),
                )
            };
            if n >= 0 {
                let n = n as usize;
                for event in &self.events[..n] {
                    ready(event.u64);
                }
                return Ok(n);
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                return Err(err);
            }
        }
    }
}

/// Implements `AsFd` and `AsRawFd` for a reader as the descriptor of its
/// field `$field` (an `OwnedFd` or an [`Epoll`]); doc comments given go on
/// `as_fd`.
macro_rules! fd_from_field {
    ($(#[$doc:meta])* $ty:ty => $field:ident) => {
        impl ::std::os::fd::AsFd for $ty {
            $(#[$doc])*
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(&self.$field)
            }
        }

        impl ::std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(&self.$field)
            }
        }
    };
}

pub(crate) use fd_from_field;

fd_from_field!(Epoll => fd);

/// The blocking `poll` of every reader: waits until `has_next(reader)` holds
/// or `timeout` passes (forever if `None`), and returns whether it holds.
///
/// Looks first, so that nothing waits when a record is there already; then,
/// in turn, `wait(reader, time_left)` sleeps until the kernel wakes the
/// reader (returning whether it did) and the reader looks again. Woken with
/// still nothing to read (a ring buffer record reserved and not committed
/// yet, say), the thread yields, to let the producer finish, before waiting
/// again.
pub(crate) fn poll_until<R: ?Sized, E>(
    reader: &mut R,
    timeout: Option<Duration>,
    mut has_next: impl FnMut(&mut R) -> bool,
    mut wait: impl FnMut(&mut R, Option<Duration>) -> Result<bool, E>,
) -> Result<bool, E> {
    let deadline = Deadline::new(timeout);
    loop {
        if has_next(reader) {
            return Ok(true);
        }
        if deadline.expired() {
            return Ok(false);
        }
        if wait(reader, deadline.remaining())? && !has_next(reader) {
            std::thread::yield_now();
        }
    }
}

/// Waits until `fd` is readable or `timeout` passes (forever if `None`),
/// retrying on signals. Returns whether it is readable.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let deadline = Deadline::new(timeout);
    loop {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, deadline.remaining_ms()) };
        if n >= 0 {
            return Ok(n > 0 && pfd.revents & libc::POLLIN != 0);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// A timeout that survives retries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    end: Option<Instant>,
    forever: bool,
}

impl Deadline {
    /// `timeout` from now; `None` never expires.
    pub(crate) fn new(timeout: Option<Duration>) -> Self {
        Deadline {
            end: timeout.and_then(|t| Instant::now().checked_add(t)),
            // A timeout too large for an `Instant` is as good as none.
            forever: timeout.is_none_or(|t| Instant::now().checked_add(t).is_none()),
        }
    }

    /// Whether the time is up.
    pub(crate) fn expired(&self) -> bool {
        match self.end {
            Some(end) if !self.forever => Instant::now() >= end,
            _ => false,
        }
    }

    /// The time left, `None` for no limit.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        match self.end {
            Some(end) if !self.forever => Some(end.saturating_duration_since(Instant::now())),
            _ => None,
        }
    }

    /// Milliseconds left for poll/epoll_wait: -1 for forever, rounded up so
    /// that a short timeout does not become a busy loop.
    fn remaining_ms(&self) -> i32 {
        match self.remaining() {
            None => -1,
            Some(left) => left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        }
    }
}
