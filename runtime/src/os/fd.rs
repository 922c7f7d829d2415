//! What a file descriptor refers to, for handles that take one from the
//! caller (a map opened from a pin or a descriptor must be a map).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The kind of BPF object behind a descriptor, as the kernel names its
/// anonymous inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    /// `anon_inode:bpf-map`
    Map,
    /// `anon_inode:bpf-prog`
    Program,
    /// `anon_inode:bpf_link` (or `bpf-link`)
    Link,
    /// `anon_inode:btf`
    Btf,
    /// Anything else (a file, a socket, a perf event, ...).
    Other,
}

impl ObjectKind {
    /// How errors name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ObjectKind::Map => "a map",
            ObjectKind::Program => "a program",
            ObjectKind::Link => "a link",
            ObjectKind::Btf => "a BTF object",
            ObjectKind::Other => "not a BPF object",
        }
    }
}

/// What `fd` refers to, read from `/proc/self/fd`; `None` when this process
/// cannot tell (no procfs).
pub(crate) fn kind_of(fd: BorrowedFd<'_>) -> Option<ObjectKind> {
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
    Some(match target.to_string_lossy().as_ref() {
        "anon_inode:bpf-map" => ObjectKind::Map,
        "anon_inode:bpf-prog" => ObjectKind::Program,
        // A new link's file is `bpf_link`; one opened from a pin `bpf-link`.
        "anon_inode:bpf_link" | "anon_inode:bpf-link" => ObjectKind::Link,
        "anon_inode:btf" => ObjectKind::Btf,
        _ => ObjectKind::Other,
    })
}

/// Fails unless `fd` is of kind `want`. A process without procfs cannot
/// tell, and fails too: a handle of the wrong kind would read the other
/// object's sizes and, for a map, size buffers the kernel writes from them.
pub(crate) fn expect_kind(fd: BorrowedFd<'_>, want: ObjectKind) -> io::Result<()> {
    match kind_of(fd) {
        Some(kind) if kind == want => Ok(()),
        Some(kind) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the descriptor is {}, not {}", kind.name(), want.name()),
        )),
        None => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "cannot tell whether the descriptor is {}: /proc/self/fd is not readable \
                 (mount procfs)",
                want.name()
            ),
        )),
    }
}
