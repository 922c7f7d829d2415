//! An epoll instance, for readers that wait on several rings at once and
//! for writers that wait for the kernel to make room.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::poll::Deadline;

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
        self.watch(fd, token, libc::EPOLLIN as u32)
    }

    /// Watches `fd` for the kernel's wakeups that it may be written
    /// (edge-triggered: one event per wakeup, not while it stays writable),
    /// reporting `token`.
    pub(crate) fn add_writable_edges(&mut self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        self.watch(fd, token, (libc::EPOLLOUT | libc::EPOLLET) as u32)
    }

    fn watch(&mut self, fd: BorrowedFd<'_>, token: u64, events: u32) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
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

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
