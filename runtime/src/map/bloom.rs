//! Bloom filters: `BPF_MAP_TYPE_BLOOM_FILTER`.

use std::marker::PhantomData;

use super::typed::typed_map;
use super::{Map, UpdateFlags};
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
