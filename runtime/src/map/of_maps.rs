//! Maps of maps: `BPF_MAP_TYPE_ARRAY_OF_MAPS` and
//! `BPF_MAP_TYPE_HASH_OF_MAPS`, whose values are other maps.

use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use super::create::{create_as, spec_of};
use super::typed::{typed_map, TypedKeys};
use super::{kernel_name, Map, MapType, UpdateFlags};
use crate::error::{check, Error, Result};
use crate::Pod;

/// The id stored under `key` (the kernel answers lookups of a map of maps
/// with the inner map's id).
fn inner_id(map: &Map, key: &[u8]) -> Result<Option<u32>> {
    let mut id = u32::new_zeroed();
    Ok(map.lookup_into(key, id.as_mut_bytes())?.then_some(id))
}

/// Opens the map with kernel id `id` as a [`Map`] of its own.
fn open_by_id(map: &Map, id: u32) -> Result<Map> {
    // SAFETY: a plain system call.
    let fd = check(unsafe { sys::bpf_map_get_fd_by_id(id) }).map_err(|source| {
        Error::sys(
            format!("opening inner map {id} of map `{}`", map.name()),
            source,
        )
    })?;
    // SAFETY: the kernel just returned this fd to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let name = kernel_name(fd.as_fd()).unwrap_or_default();
    Map::from_fd(fd, name)
}

/// Stores the map behind `inner` under `key`.
fn set_inner(map: &Map, key: &[u8], inner: &impl AsFd, flags: UpdateFlags) -> Result<()> {
    let fd = inner.as_fd().as_raw_fd();
    map.update(key, fd.as_bytes(), flags)
}

/// An array of maps (`BPF_MAP_TYPE_ARRAY_OF_MAPS`): slot `i` holds a map
/// like the inner map the C program declared (same kind, key and value
/// sizes; the kernel checks).
///
/// Made from a [`Map`] with `ArrayOfMaps::try_from(map)`.
pub struct ArrayOfMaps {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(ArrayOfMaps, kinds: [ARRAY_OF_MAPS], key: Some(4), value: Some(4));

impl ArrayOfMaps {
    /// Creates an array of maps of no object (`BPF_MAP_TYPE_ARRAY_OF_MAPS`)
    /// of `len` empty slots, each of which takes a map like `inner` (same
    /// kind, key and value sizes and flags; the kernel checks).
    ///
    /// ```no_run
    /// use ebpf_skeleton::{ArrayOfMaps, HashMap};
    /// # fn example() -> ebpf_skeleton::Result<()> {
    /// let template = HashMap::<u32, u64>::create("template", 64)?;
    /// let outer = ArrayOfMaps::create("per_tenant", 8, &template)?;
    /// outer.set(0, &HashMap::<u32, u64>::create("tenant0", 64)?)?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn create(name: impl Into<String>, len: u32, inner: &impl AsFd) -> Result<Self> {
        let mut spec = spec_of::<u32, u32>(name, MapType::ARRAY_OF_MAPS, len);
        spec.set_inner_map(inner)?;
        create_as(spec)
    }

    /// The number of slots.
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no slots at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts the map `inner` (a [`Map`], a typed map, any map descriptor) in
    /// slot `index`.
    pub fn set(&self, index: u32, inner: &impl AsFd) -> Result<()> {
        set_inner(&self.map, index.as_bytes(), inner, UpdateFlags::ANY)
    }

    /// Empties slot `index`; `false` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool> {
        self.map.delete(index.as_bytes())
    }

    /// The kernel's id of the map in slot `index`, or `None` if empty.
    pub fn get(&self, index: u32) -> Result<Option<u32>> {
        inner_id(&self.map, index.as_bytes())
    }

    /// The map in slot `index`, opened with a descriptor of its own, or
    /// `None` if empty.
    pub fn get_map(&self, index: u32) -> Result<Option<Map>> {
        self.get(index)?
            .map(|id| open_by_id(&self.map, id))
            .transpose()
    }
}

/// A hash of maps (`BPF_MAP_TYPE_HASH_OF_MAPS`) with keys of type `K`
/// (`u32` unless said otherwise): each key holds a map like the inner map
/// the C program declared.
///
/// Made from a [`Map`] with `HashOfMaps::<K>::try_from(map)`.
pub struct HashOfMaps<K = u32> {
    map: Map,
    _types: PhantomData<fn() -> (K,)>,
}

typed_map!(HashOfMaps<K>, kinds: [HASH_OF_MAPS], key: Some(size_of::<K>()), value: Some(4));

impl<K: Pod> HashOfMaps<K> {
    /// Creates a hash of maps of no object (`BPF_MAP_TYPE_HASH_OF_MAPS`)
    /// for up to `max_entries` keys, each of which takes a map like `inner`.
    pub fn create(name: impl Into<String>, max_entries: u32, inner: &impl AsFd) -> Result<Self> {
        let mut spec = spec_of::<K, u32>(name, MapType::HASH_OF_MAPS, max_entries);
        spec.set_inner_map(inner)?;
        create_as(spec)
    }

    /// Stores the map `inner` under `key`.
    pub fn set(&self, key: &K, inner: &impl AsFd) -> Result<()> {
        set_inner(&self.map, key.as_bytes(), inner, UpdateFlags::ANY)
    }

    /// Stores the map `inner` under `key`, with `flags`.
    pub fn insert(&self, key: &K, inner: &impl AsFd, flags: UpdateFlags) -> Result<()> {
        set_inner(&self.map, key.as_bytes(), inner, flags)
    }

    /// Removes the entry under `key`; `false` if there was none.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.delete(key.as_bytes())
    }

    /// The kernel's id of the map under `key`, or `None`.
    pub fn get(&self, key: &K) -> Result<Option<u32>> {
        inner_id(&self.map, key.as_bytes())
    }

    /// The map under `key`, opened with a descriptor of its own, or `None`.
    pub fn get_map(&self, key: &K) -> Result<Option<Map>> {
        self.get(key)?
            .map(|id| open_by_id(&self.map, id))
            .transpose()
    }

    /// The keys.
    pub fn keys(&self) -> TypedKeys<'_, K> {
        TypedKeys::new(&self.map)
    }
}
