//! Helpers shared by the kernel tests: triggering syscalls and reading what
//! the kernel counted.

use std::time::{Duration, Instant};

/// Calls getppid(2) `n` times from the current thread, bypassing libc so no
/// call is cached or skipped.
pub fn getppid_n(n: u64) {
    for _ in 0..n {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

/// The calling thread's id, which the test programs key their counters by.
pub fn tid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() as u32 }
}

/// Reads a native-endian u64 map value.
pub fn u64_value(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes[..8].try_into().expect("an 8-byte value"))
}

/// Waits until `done` holds or `timeout` passes; returns whether it held.
/// For kernel state that settles asynchronously (freeing a program after its
/// last reference goes is deferred by RCU).
pub fn eventually(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

/// Whether the kernel still has a program with this id.
pub fn program_exists(id: u32) -> bool {
    // SAFETY: a plain syscall wrapper; a returned fd is closed right away.
    let fd = unsafe { ebpf_skeleton::libbpf_sys::bpf_prog_get_fd_by_id(id) };
    if fd >= 0 {
        // SAFETY: we own the fd just returned.
        unsafe { libc::close(fd) };
        true
    } else {
        false
    }
}

/// Whether the kernel still has a map with this id.
pub fn map_exists(id: u32) -> bool {
    // SAFETY: as in `program_exists`.
    let fd = unsafe { ebpf_skeleton::libbpf_sys::bpf_map_get_fd_by_id(id) };
    if fd >= 0 {
        // SAFETY: we own the fd just returned.
        unsafe { libc::close(fd) };
        true
    } else {
        false
    }
}
