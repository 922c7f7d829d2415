//! What can be decided about a map before its object is loaded.

use libbpf_sys as sys;

use super::MapType;
use crate::error::{check, Error, Kind, Result};
use std::ptr::NonNull;

use crate::libbpf::map_name;

/// A map's settings before load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    name: String,
    map_type: MapType,
    key_size: u32,
    value_size: u32,
    /// The most entries the map holds (for a ring buffer, its size in bytes:
    /// a power of two, a multiple of the page size).
    pub max_entries: u32,
}

impl MapSpec {
    pub(crate) fn read(map: NonNull<sys::bpf_map>) -> Self {
        let map = map.as_ptr();
        // SAFETY (all calls): `map` is a map of an open object.
        unsafe {
            MapSpec {
                name: map_name(map),
                map_type: MapType(sys::bpf_map__type(map)),
                key_size: sys::bpf_map__key_size(map),
                value_size: sys::bpf_map__value_size(map),
                max_entries: sys::bpf_map__max_entries(map),
            }
        }
    }

    pub(crate) fn apply(&self, map: NonNull<sys::bpf_map>) -> Result<()> {
        // SAFETY: `map` is a map of an open, not yet loaded object.
        let ret = unsafe { sys::bpf_map__set_max_entries(map.as_ptr(), self.max_entries) };
        check(ret).map_err(|source| Error::Configure {
            what: "max_entries",
            kind: Kind::Map,
            name: self.name.clone(),
            source,
        })?;
        Ok(())
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The map's kind.
    pub fn map_type(&self) -> MapType {
        self.map_type
    }

    /// The size of a key in bytes.
    pub fn key_size(&self) -> u32 {
        self.key_size
    }

    /// The size of a value in bytes.
    pub fn value_size(&self) -> u32 {
        self.value_size
    }
}
