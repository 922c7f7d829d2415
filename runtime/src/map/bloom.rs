//! Bloom filters: `BPF_MAP_TYPE_BLOOM_FILTER`.

use std::marker::PhantomData;

use super::create::{create_as, spec_of};
use super::typed::typed_map;
use super::{Map, MapType, UpdateFlags};
use crate::error::Result;
use crate::Pod;

/// A bloom filter (`BPF_MAP_TYPE_BLOOM_FILTER`) of `V`s: a set that can
/// answer "maybe present" wrongly but never "absent" wrongly. Values cannot
/// be removed.
///
/// Made from a [`Map`] with `BloomFilter::<V>::try_from(map)`.
pub struct BloomFilter<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(BloomFilter<V>, kinds: [BLOOM_FILTER], key: Some(0), value: Some(size_of::<V>()));

impl<V: Pod> BloomFilter<V> {
    /// Creates a bloom filter of no object (`BPF_MAP_TYPE_BLOOM_FILTER`,
    /// Linux 5.16) sized for `max_entries` values, with `hashes` hash
    /// functions (1 to 15; 0 takes the kernel's 5).
    pub fn create(name: impl Into<String>, max_entries: u32, hashes: u8) -> Result<Self> {
        let mut spec = spec_of::<(), V>(name, MapType::BLOOM_FILTER, max_entries);
        spec.map_extra = u64::from(hashes);
        create_as(spec)
    }

    /// Adds `value` to the set.
    #[inline]
    pub fn insert(&self, value: &V) -> Result<()> {
        self.map.update(&[], value.as_bytes(), UpdateFlags::ANY)
    }

    /// `false` when `value` was certainly never inserted; `true` when it
    /// may have been.
    #[inline]
    pub fn contains(&self, value: &V) -> Result<bool> {
        // The kernel reads the value to test from the value buffer.
        let mut probe = *value;
        self.map.lookup_into(&[], probe.as_mut_bytes())
    }
}
