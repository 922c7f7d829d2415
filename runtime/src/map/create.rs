//! Maps of no object, created at run time from a [`MapSpec`]: for
//! hand-written programs (which name them in their map loads), as inner
//! maps of maps of maps, or shared with other processes by pin. They are
//! created without BTF, so kinds whose values the kernel must see in BTF
//! (spin locks, timers, local storage) cannot be made this way.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use super::{Map, MapSpec, MapType};
use crate::error::{Error, Result};
use crate::names::kernel_name;
use crate::os::caps;
use crate::os::errno::{check, code_of};

impl MapSpec {
    /// Creates the map in the kernel as the spec says: kind, key and value
    /// sizes, most entries, flags, NUMA node, extra and inner map (for a
    /// map of maps, [`MapSpec::set_inner_map`]); then pins it at
    /// [`pin_path`](MapSpec::pin_path) if there is one. `autocreate` and
    /// [`reuse`](MapSpec::reuse) concern objects and are not used here.
    ///
    /// A spec read from an object makes a map of its own, not the
    /// object's: e.g. more inner maps like an object's template. The map is
    /// created without BTF.
    ///
    /// ```no_run
    /// use ebpf_skeleton::{HashMap, MapSpec, MapType};
    /// # fn example() -> ebpf_skeleton::Result<()> {
    /// let map = MapSpec::new("counts", MapType::LRU_HASH, 4, 8, 1024).create()?;
    /// let counts = HashMap::<u32, u64>::try_from(map)?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn create(&self) -> Result<Map> {
        let name = kernel_name(self.name()).map_err(|problem| self.create_error(problem))?;
        let opts = sys::bpf_map_create_opts {
            sz: size_of::<sys::bpf_map_create_opts>() as _,
            inner_map_fd: self.inner_map().map_or(0, |fd| fd.as_raw_fd() as u32),
            map_flags: self.creation_flags(),
            map_extra: self.map_extra,
            numa_node: self.numa_node,
            ..Default::default()
        };
        // SAFETY: a valid C string and options; the inner map's descriptor
        // is open across the call (the spec holds it).
        let ret = unsafe {
            sys::bpf_map_create(
                self.map_type().0,
                name.as_ptr(),
                self.key_size,
                self.value_size,
                self.max_entries,
                &opts,
            )
        };
        let fd = check(ret).map_err(|source| self.refused(source))?;
        // SAFETY: the kernel just returned this descriptor to us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let map = Map::from_fd(fd, self.name())?;
        if let Some(path) = &self.pin_path {
            map.pin(path)?;
        }
        Ok(map)
    }

    /// The error for settings the kernel refused, saying what they were.
    fn refused(&self, source: io::Error) -> Error {
        let mut problem = format!(
            "the kernel refused a {} map of {}-byte keys, {}-byte values and {} entries, \
             flags {:#x}",
            self.map_type(),
            self.key_size,
            self.value_size,
            self.max_entries,
            self.creation_flags()
        );
        if self.creation_flags() & sys::BPF_F_NUMA_NODE != 0 {
            problem.push_str(&format!(", NUMA node {}", self.numa_node));
        }
        if self.map_extra != 0 {
            problem.push_str(&format!(", extra {:#x}", self.map_extra));
        }
        match code_of(&source) {
            Some(libc::EINVAL) => problem.push_str(
                " (sizes or flags this kind does not take, or a kind this kernel does not have)",
            ),
            Some(libc::EPERM) if caps::has(caps::BPF) == Some(false) => {
                problem.push_str(" (creating maps needs root or CAP_BPF, which this process lacks)")
            }
            _ => {}
        }
        Error::MapCreate {
            map: self.name().to_owned(),
            problem,
            source: Some(source),
        }
    }

    fn create_error(&self, problem: String) -> Error {
        Error::MapCreate {
            map: self.name().to_owned(),
            problem,
            source: None,
        }
    }
}

/// The size of `T` as the kernel takes sizes; a type too large for it
/// stays too large (the kernel refuses it, naming the map).
pub(super) fn size32<T>() -> u32 {
    u32::try_from(size_of::<T>()).unwrap_or(u32::MAX)
}

/// Creates a map as `spec` says and makes it the typed map `T`.
pub(super) fn create_as<T>(spec: MapSpec) -> Result<T>
where
    T: TryFrom<Map, Error = Error>,
{
    spec.create()?.try_into()
}

/// The spec of a map of `kind` with keys of `K` and values of `V`.
pub(super) fn spec_of<K, V>(name: impl Into<String>, kind: MapType, max_entries: u32) -> MapSpec {
    MapSpec::new(name, kind, size32::<K>(), size32::<V>(), max_entries)
}
