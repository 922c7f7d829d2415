//! The system layer: what every other module builds on and that uses none
//! of them. File descriptors and what they refer to, shared mappings,
//! atomic access to shared memory, epoll and poll, CPU lists, perf events,
//! socket filters, network namespaces, the kernel's symbols, tracefs kprobe
//! events, and errno.

pub(crate) mod atomic;
pub(crate) mod caps;
pub(crate) mod cpus;
pub(crate) mod epoll;
pub(crate) mod errno;
pub(crate) mod fd;
pub(crate) mod kallsyms;
pub(crate) mod mmap;
pub(crate) mod netns;
pub(crate) mod perf_event;
pub(crate) mod poll;
pub(crate) mod socket;
pub(crate) mod tracefs;

/// Implements `AsFd` and `AsRawFd` for a type as the descriptor of its
/// field `$field` (an `OwnedFd` or anything `AsFd`); doc comments given go
/// on `as_fd`.
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
                ::std::os::fd::AsRawFd::as_raw_fd(&::std::os::fd::AsFd::as_fd(&self.$field))
            }
        }
    };
}

pub(crate) use fd_from_field;

/// A name the kernel keeps as a NUL-padded `char` array (in map, program
/// and link info).
pub(crate) fn c_name(name: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
