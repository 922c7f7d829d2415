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

/// Reads (and so consumes) up to `buf.len()` bytes of the BPF stream
/// `stream_id` (`BPF_STREAM_STDOUT` or `BPF_STREAM_STDERR`) of the program
/// behind `fd`; how many were read, 0 when the stream is empty.
pub(crate) fn prog_stream_read(
    fd: BorrowedFd<'_>,
    stream_id: u32,
    buf: &mut [u8],
) -> io::Result<usize> {
    // The kernel takes the length as an `int`.
    let len = buf.len().min(i32::MAX as usize) as u32;
    // SAFETY: `buf` is writable for `len` bytes; NULL options are allowed.
    let n = check(unsafe {
        sys::bpf_prog_stream_read(
            fd.as_raw_fd(),
            stream_id,
            buf.as_mut_ptr().cast(),
            len,
            std::ptr::null_mut(),
        )
    })?;
    Ok(n as usize)
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

/// BTF kinds (`BTF_KIND_*`) the walk below follows.
const BTF_KIND_PTR: u32 = 2;
const BTF_KIND_STRUCT: u32 = 4;
const BTF_KIND_TYPEDEF: u32 = 8;
const BTF_KIND_VOLATILE: u32 = 9;
const BTF_KIND_CONST: u32 = 10;
const BTF_KIND_RESTRICT: u32 = 11;
const BTF_KIND_TYPE_TAG: u32 = 18;

/// The byte ranges of the pointer members of the struct_ops map `map`'s
/// struct, as the object's BTF lays it out. In a struct_ops map's data
/// libbpf keeps its own `struct bpf_program *` in each callback slot, and
/// at load it reads every pointer member as one; `None` when the BTF does
/// not say.
pub(crate) fn struct_ops_pointers(
    obj: NonNull<sys::bpf_object>,
    map: NonNull<sys::bpf_map>,
) -> Option<Vec<std::ops::Range<usize>>> {
    // SAFETY: plain getters of a live object and one of its maps.
    let (btf, id) = unsafe {
        (
            sys::bpf_object__btf(obj.as_ptr()),
            sys::bpf_map__btf_value_type_id(map.as_ptr()),
        )
    };
    if btf.is_null() {
        return None;
    }
    let ty = btf_type(btf, id)?;
    if kind(ty) != BTF_KIND_STRUCT {
        return None;
    }
    let vlen = (ty.info & 0xffff) as usize;
    let bitfields = ty.info >> 31 == 1;
    // SAFETY: libbpf validated the object's BTF at open: a struct's type
    // record is followed by `vlen` member records (libbpf's `btf_members`).
    let members = unsafe {
        std::slice::from_raw_parts(
            (ty as *const sys::btf_type)
                .add(1)
                .cast::<sys::btf_member>(),
            vlen,
        )
    };
    let mut pointers = Vec::new();
    for member in members {
        let bits = if bitfields {
            member.offset & 0x00ff_ffff
        } else {
            member.offset
        };
        if is_pointer(btf, member.type_)? {
            let at = (bits / 8) as usize;
            pointers.push(at..at + size_of::<*const u8>());
        }
    }
    Some(pointers)
}

/// Whether BTF type `id` is a pointer, through typedefs and qualifiers.
fn is_pointer(btf: *const sys::btf, mut id: u32) -> Option<bool> {
    // BTF libbpf accepted has no loops; the bound only guards against one.
    for _ in 0..64 {
        let ty = btf_type(btf, id)?;
        match kind(ty) {
            BTF_KIND_PTR => return Some(true),
            BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST | BTF_KIND_RESTRICT
            | BTF_KIND_TYPE_TAG => {
                // SAFETY: these kinds keep the type they refer to in `type`.
                id = unsafe { ty.__bindgen_anon_1.type_ };
            }
            _ => return Some(false),
        }
    }
    None
}

fn btf_type<'a>(btf: *const sys::btf, id: u32) -> Option<&'a sys::btf_type> {
    // SAFETY: `btf` is the live object's BTF; libbpf returns a type record
    // it owns (or NULL for an id out of range), valid while the object is.
    unsafe { sys::btf__type_by_id(btf, id).as_ref() }
}

fn kind(ty: &sys::btf_type) -> u32 {
    (ty.info >> 24) & 0x1f
}
