//! Programs on a socket: its filter (`SO_ATTACH_BPF`), which decides how
//! much of each packet the socket receives, and the program of its
//! reuseport group (`SO_ATTACH_REUSEPORT_EBPF`), which picks the group's
//! socket for each packet or connection.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `SO_ATTACH_BPF` (asm-generic, as on x86 and arm64).
const SO_ATTACH_BPF: libc::c_int = 50;
/// `SO_DETACH_BPF`, which is `SO_DETACH_FILTER`.
const SO_DETACH_BPF: libc::c_int = 27;

/// Attaches the program `prog` to `socket`, in place of any filter it had.
pub(crate) fn attach_filter(socket: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let fd: libc::c_int = prog.as_raw_fd();
    setsockopt(socket, SO_ATTACH_BPF, &fd)
}

/// Removes the filter of `socket`.
pub(crate) fn detach_filter(socket: BorrowedFd<'_>) -> io::Result<()> {
    let unused: libc::c_int = 0;
    setsockopt(socket, SO_DETACH_BPF, &unused)
}

/// Attaches the `sk_reuseport` program `prog` to the reuseport group of
/// `socket`, in place of any program it had.
pub(crate) fn attach_reuseport(socket: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let fd: libc::c_int = prog.as_raw_fd();
    setsockopt(socket, libc::SO_ATTACH_REUSEPORT_EBPF, &fd)
}

/// Removes the program of the reuseport group of `socket`.
pub(crate) fn detach_reuseport(socket: BorrowedFd<'_>) -> io::Result<()> {
    let unused: libc::c_int = 0;
    setsockopt(socket, libc::SO_DETACH_REUSEPORT_BPF, &unused)
}

fn setsockopt(socket: BorrowedFd<'_>, option: libc::c_int, value: &libc::c_int) -> io::Result<()> {
    // SAFETY: `value` is a readable int for the call, as the option takes.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
