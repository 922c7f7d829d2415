//! Setting a global variable by name before load: found in the object's
//! BTF (the variable's data section and its offset there, after libbpf's
//! open-time fixups), then written into that section's initial value.

use std::ffi::CStr;

use libbpf_sys as sys;

use crate::error::{Error, Kind, Result};
use crate::handle::ObjectHandle;
use crate::libbpf::find_section;
use crate::os::errno::check;

const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;

/// Where a global variable lives.
struct Place {
    section: String,
    offset: usize,
    size: usize,
}

/// Writes `bytes` over the global variable `name` of the open object.
pub(super) fn set(handle: &ObjectHandle, name: &str, bytes: &[u8]) -> Result<()> {
    let object = handle.name();
    let not_found = || Error::not_found(object, Kind::Map, name, variables(handle));
    let place = find(handle, name).ok_or_else(not_found)?;
    let size_error = |expected| Error::Size {
        op: "set the global variable",
        map: format!("{}:{name}", place.section),
        what: "value",
        expected,
        actual: bytes.len(),
    };
    if bytes.len() != place.size {
        return Err(size_error(place.size));
    }
    let map = find_section(handle.ptr(), &place.section).ok_or_else(not_found)?;
    let mut len = 0usize;
    // SAFETY: `map` is an internal map of the open object; libbpf returns
    // its initial value, `len` bytes, which is copied before the next call.
    let current =
        unsafe { sys::bpf_map__initial_value(map.as_ptr(), (&mut len as *mut usize).cast()) };
    if current.is_null() || place.offset + place.size > len {
        return Err(size_error(len));
    }
    // SAFETY: as above.
    let mut value = unsafe { std::slice::from_raw_parts(current.cast::<u8>(), len) }.to_vec();
    value[place.offset..place.offset + place.size].copy_from_slice(bytes);
    // SAFETY: the map is unloaded; libbpf copies the bytes and checks their size.
    let ret =
        unsafe { sys::bpf_map__set_initial_value(map.as_ptr(), value.as_ptr().cast(), len as _) };
    check(ret).map(drop).map_err(|source| Error::Configure {
        what: "global variable",
        kind: Kind::Map,
        name: format!("{}:{name}", place.section),
        source,
    })
}

/// The variable `name` among the object's data sections.
fn find(handle: &ObjectHandle, name: &str) -> Option<Place> {
    sections(handle).find_map(|(section, vars)| {
        vars.into_iter()
            .find(|(var, ..)| var == name)
            .map(|(_, offset, size)| Place {
                section,
                offset,
                size,
            })
    })
}

/// Every global variable's name, for "did you mean".
fn variables(handle: &ObjectHandle) -> Vec<String> {
    sections(handle)
        .flat_map(|(_, vars)| vars.into_iter().map(|(name, ..)| name))
        .collect()
}

/// Each data section of the object's BTF, with its variables' names,
/// offsets and sizes.
fn sections(
    handle: &ObjectHandle,
) -> impl Iterator<Item = (String, Vec<(String, usize, usize)>)> + '_ {
    // SAFETY: the object is open; its BTF lives as long as the object.
    let btf = unsafe { sys::bpf_object__btf(handle.ptr().as_ptr()) };
    let count = if btf.is_null() {
        0
    } else {
        // SAFETY: as above.
        unsafe { sys::btf__type_cnt(btf) }
    };
    (1..count).filter_map(move |id| {
        let t = type_by_id(handle, btf, id)?;
        if kind(t) != KIND_DATASEC {
            return None;
        }
        // SAFETY: a DATASEC's `vlen` secinfos follow it in libbpf's BTF.
        let infos = unsafe {
            std::slice::from_raw_parts(
                (t as *const sys::btf_type)
                    .add(1)
                    .cast::<sys::btf_var_secinfo>(),
                vlen(t),
            )
        };
        let vars = infos
            .iter()
            .filter_map(|info| {
                let var = type_by_id(handle, btf, info.type_)?;
                (kind(var) == KIND_VAR)
                    .then(|| (name_of(btf, var), info.offset as usize, info.size as usize))
            })
            .collect();
        Some((name_of(btf, t), vars))
    })
}

/// The type `id` of `btf`, the BTF of `object`, borrowed as long as the
/// object is.
fn type_by_id(_object: &ObjectHandle, btf: *const sys::btf, id: u32) -> Option<&sys::btf_type> {
    // SAFETY: `btf` is the live object's BTF, which lives as long as the
    // object; libbpf returns NULL for an id past its last type.
    unsafe { sys::btf__type_by_id(btf, id).as_ref() }
}

fn name_of(btf: *const sys::btf, t: &sys::btf_type) -> String {
    // SAFETY: libbpf returns a NUL-terminated string of the BTF's strings.
    let name = unsafe { sys::btf__name_by_offset(btf, t.name_off) };
    if name.is_null() {
        return String::new();
    }
    // SAFETY: as above.
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

fn kind(t: &sys::btf_type) -> u32 {
    (t.info >> 24) & 0x1f
}

fn vlen(t: &sys::btf_type) -> usize {
    (t.info & 0xffff) as usize
}
