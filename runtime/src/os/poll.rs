//! Waiting: poll(2) on one descriptor, the readers' shared blocking loop,
//! and a deadline that survives retries.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

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
    pub(crate) fn remaining_ms(&self) -> i32 {
        match self.remaining() {
            None => -1,
            Some(left) => left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        }
    }
}
