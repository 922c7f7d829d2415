//! Arrays: `BPF_MAP_TYPE_ARRAY`.

use std::marker::PhantomData;

use super::batch::{self, BatchCursor, BatchIter};
use super::create::{create_as, spec_of};
use super::typed::{self, typed_map, Entries};
use super::{Map, MapType, UpdateFlags};
use crate::error::Result;
use crate::Pod;

/// An array (`BPF_MAP_TYPE_ARRAY`) of `len()` values of type `V`, indexed
/// by `u32`. Every index always has a value (zeroed at creation); entries
/// cannot be removed.
///
/// Made from a [`Map`] with `Array::<V>::try_from(map)`, which checks the
/// kind, the 4-byte key and that `V` has the map's value size.
pub struct Array<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(Array<V>, kinds: [ARRAY], key: Some(4), value: Some(size_of::<V>()));

impl<V: Pod> Array<V> {
    /// Creates an array of no object (`BPF_MAP_TYPE_ARRAY`) of `len`
    /// zeroed values, for hand-written programs or as an inner map.
    pub fn create(name: impl Into<String>, len: u32) -> Result<Self> {
        create_as(spec_of::<u32, V>(name, MapType::ARRAY, len))
    }

    /// The number of values (the map's `max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no values at all (`max_entries` 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index`; `None` past the end. Allocates nothing.
    #[inline]
    pub fn get(&self, index: u32) -> Result<Option<V>> {
        typed::lookup(&self.map, &index)
    }

    /// Stores `value` at `index`. Past the end fails with `E2BIG`;
    /// [`UpdateFlags::NO_EXIST`] always fails (`EEXIST`), every index
    /// having a value.
    #[inline]
    pub fn set(&self, index: u32, value: &V, flags: UpdateFlags) -> Result<()> {
        self.map.update(index.as_bytes(), value.as_bytes(), flags)
    }

    /// The `(index, value)` pairs in index order, one lookup each.
    pub fn iter(&self) -> Entries<'_, u32, V> {
        Entries::new(&self.map, typed::lookup::<u32, V>)
    }

    /// Reads the values after `cursor` (and their indexes) with one
    /// `BPF_MAP_LOOKUP_BATCH`, as many as the shorter buffer holds; returns
    /// how many it read, 0 once [`BatchCursor::is_done`].
    pub fn get_batch(
        &self,
        cursor: &mut BatchCursor,
        indexes: &mut [u32],
        values: &mut [V],
    ) -> Result<usize> {
        batch::get_plain(&self.map, cursor, indexes, values)
    }

    /// Stores `values[i]` at `indexes[i]` with one `BPF_MAP_UPDATE_BATCH`.
    /// The kernel takes only [`UpdateFlags::ANY`] and [`UpdateFlags::LOCK`]
    /// here (`EINVAL` otherwise).
    pub fn update_batch(&self, indexes: &[u32], values: &[V], flags: UpdateFlags) -> Result<()> {
        batch::update_plain(&self.map, indexes, values, flags)
    }

    /// Every `(index, value)` pair, read in large batches.
    pub fn entries_batched(&self) -> Result<Vec<(u32, V)>> {
        match batch::read_all(&self.map, batch::decode_plain::<V>)? {
            Some(entries) => Ok(entries),
            None => self.iter().collect(),
        }
    }

    /// The `(index, value)` pairs, read `batch_size` at a time.
    pub fn iter_batched(&self, batch_size: usize) -> BatchIter<'_, u32, V> {
        BatchIter::new(&self.map, batch_size, batch::decode_plain::<V>)
    }
}
