//! libbpf's getters, made into Rust values: names, sections, iteration over
//! an object's programs and maps. The bottom layer beside [`crate::os`]:
//! every caller passes pointers of an object it keeps alive.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use libbpf_sys as sys;

use crate::os::errno::check;

/// The program's name (its C function's name).
pub(crate) fn program_name(prog: *const sys::bpf_program) -> String {
    // SAFETY: libbpf returns a NUL-terminated name owned by the program.
    cstr(unsafe { sys::bpf_program__name(prog) })
}

/// The ELF section the program is in.
pub(crate) fn program_section(prog: *const sys::bpf_program) -> String {
    // SAFETY: as above.
    cstr(unsafe { sys::bpf_program__section_name(prog) })
}

/// The map's name (for data sections, libbpf's `<object>.bss`-style name).
pub(crate) fn map_name(map: *const sys::bpf_map) -> String {
    // SAFETY: as above.
    cstr(unsafe { sys::bpf_map__name(map) })
}

/// The object's programs, in section order.
pub(crate) fn programs_of(
    obj: NonNull<sys::bpf_object>,
) -> impl Iterator<Item = NonNull<sys::bpf_program>> {
    let mut prev = std::ptr::null_mut();
    std::iter::from_fn(move || {
        // SAFETY: `obj` is a live object and `prev` one of its programs or NULL.
        prev = unsafe { sys::bpf_object__next_program(obj.as_ptr(), prev) };
        NonNull::new(prev)
    })
}

/// The object's maps, data sections included.
pub(crate) fn maps_of(
    obj: NonNull<sys::bpf_object>,
) -> impl Iterator<Item = NonNull<sys::bpf_map>> {
    let mut prev = std::ptr::null_mut();
    std::iter::from_fn(move || {
        // SAFETY: `obj` is a live object and `prev` one of its maps or NULL.
        prev = unsafe { sys::bpf_object__next_map(obj.as_ptr(), prev) };
        NonNull::new(prev)
    })
}

/// The data section `section` (its ELF name: `.bss`, `.data.stats`, ...),
/// matched exactly, as libbpf matches names starting with a dot.
pub(crate) fn find_section(
    obj: NonNull<sys::bpf_object>,
    section: &str,
) -> Option<NonNull<sys::bpf_map>> {
    if !section.starts_with('.') {
        return None;
    }
    let name = CString::new(section).ok()?;
    // SAFETY: a live object and a valid C string.
    let map =
        NonNull::new(unsafe { sys::bpf_object__find_map_by_name(obj.as_ptr(), name.as_ptr()) })?;
    // SAFETY: `map` belongs to the live object.
    unsafe { sys::bpf_map__is_internal(map.as_ptr()) }.then_some(map)
}

/// What the kernel says about the program behind `fd`.
pub(crate) fn prog_info(fd: BorrowedFd<'_>) -> io::Result<sys::bpf_prog_info> {
    let mut info = sys::bpf_prog_info::default();
    let mut len = size_of::<sys::bpf_prog_info>() as u32;
    // SAFETY: `info` is writable for `len` bytes.
    check(unsafe { sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) })?;
    Ok(info)
}

/// What the kernel says about the map behind `fd`.
pub(crate) fn map_info(fd: BorrowedFd<'_>) -> io::Result<sys::bpf_map_info> {
    let mut info = sys::bpf_map_info::default();
    let mut len = size_of::<sys::bpf_map_info>() as u32;
    // SAFETY: `info` is writable for `len` bytes.
    check(unsafe { sys::bpf_map_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) })?;
    Ok(info)
}

/// What the kernel says about the link behind `fd`.
pub(crate) fn link_info(fd: BorrowedFd<'_>) -> io::Result<sys::bpf_link_info> {
    let mut info = sys::bpf_link_info::default();
    let mut len = size_of::<sys::bpf_link_info>() as u32;
    // SAFETY: `info` is writable for `len` bytes.
    check(unsafe { sys::bpf_link_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) })?;
    Ok(info)
}

/// Opens the object (map, program, link) pinned at `path` in bpffs.
pub(crate) fn open_pin(path: &std::path::Path) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
    // SAFETY: a valid C string.
    let fd = check(unsafe { sys::bpf_obj_get(c_path.as_ptr()) })?;
    // SAFETY: the kernel just returned this fd to us.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

fn cstr(ptr: *const libc::c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: non-NULL strings from libbpf are NUL-terminated.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}
