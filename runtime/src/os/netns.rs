//! A network namespace of a thread's own, for probes that attach to an
//! interface without touching the machine's: a new namespace has only a
//! loopback interface, which goes with it.

use std::io;

/// Runs `f` on a thread of its own in a new network namespace, which
/// ends with the thread. Unsharing needs `CAP_SYS_ADMIN`.
pub(crate) fn in_private_netns<T: Send>(f: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: a plain system call, affecting this thread only.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(f())
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
