//! Perf events a program attaches to (tracepoints, the caller's own), and
//! the old way of attaching one (`PERF_EVENT_IOC_SET_BPF`) for kernels
//! without BPF perf links (before 5.15).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

/// `_IOW('$', 8, __u32)`: gives the event a BPF program to run.
const IOC_SET_BPF: libc::c_ulong = 0x4004_2408;
/// `_IO('$', 0)`: starts the event.
const IOC_ENABLE: libc::c_ulong = 0x2400;

/// `perf_event_open(attr, pid, cpu, -1, FD_CLOEXEC)`.
pub(crate) fn open(attr: &sys::perf_event_attr, pid: i32, cpu: i32) -> io::Result<OwnedFd> {
    // SAFETY: `attr` is a valid perf_event_attr of the size it claims.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr as *const sys::perf_event_attr,
            pid as libc::pid_t,
            cpu as libc::c_int,
            -1 as libc::c_int,
            sys::PERF_FLAG_FD_CLOEXEC as libc::c_ulong,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this fd to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// An event of the tracepoint `category:name` on every CPU and process,
/// each hit a sample (which is what runs an attached program).
pub(crate) fn open_tracepoint(category: &str, name: &str) -> io::Result<OwnedFd> {
    let mut attr = sys::perf_event_attr {
        type_: sys::PERF_TYPE_TRACEPOINT,
        size: size_of::<sys::perf_event_attr>() as u32,
        config: tracepoint_id(category, name)?,
        ..Default::default()
    };
    attr.__bindgen_anon_1.sample_period = 1;
    attr.__bindgen_anon_2.wakeup_events = 1;
    open(&attr, -1, 0)
}

/// The tracepoint's id, from tracefs (or its old place under debugfs).
pub(crate) fn tracepoint_id(category: &str, name: &str) -> io::Result<u64> {
    let mut last = io::Error::from_raw_os_error(libc::ENOENT);
    for root in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        let path = format!("{root}/events/{category}/{name}/id");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return text.trim().parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{path} holds no id"))
                })
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Makes `event` run the program `prog` and starts it; the program stays
/// attached until the event's last descriptor closes.
pub(crate) fn set_bpf(event: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    for (request, arg) in [(IOC_SET_BPF, prog.as_raw_fd()), (IOC_ENABLE, 0)] {
        // SAFETY: a plain ioctl on an open perf event with an integer
        // argument.
        if unsafe { libc::ioctl(event.as_raw_fd(), request, arg) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A perf event's count (its `read(2)` without a read format).
pub(crate) fn read_count(event: BorrowedFd<'_>) -> io::Result<u64> {
    let mut count = 0u64;
    // SAFETY: `count` is writable for the 8 bytes asked for.
    let n = unsafe { libc::read(event.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
    match n {
        8 => Ok(count),
        n if n < 0 => Err(io::Error::last_os_error()),
        _ => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
    }
}
