//! Longest-prefix-match tries: `BPF_MAP_TYPE_LPM_TRIE`.

use std::marker::PhantomData;

use super::batch::{self, BatchCursor, BatchIter};
use super::typed::{self, typed_map, Entries, TypedKeys};
use super::{Map, UpdateFlags};
use crate::error::Result;
use crate::Pod;

/// A longest-prefix-match trie (`BPF_MAP_TYPE_LPM_TRIE`).
///
/// `K` is the whole key struct as the C program declares it: a `u32`
/// prefix length in bits first, then the data (an address, say) in network
/// order, e.g.
///
/// ```no_run
/// use ebpf_skeleton::zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};
/// use ebpf_skeleton::{LpmTrie, Map, UpdateFlags};
///
/// #[derive(FromBytes, IntoBytes, Immutable, KnownLayout, Clone, Copy)]
/// #[zerocopy(crate = "ebpf_skeleton::zerocopy")]
/// #[repr(C)]
/// struct Ipv4Key { prefixlen: u32, addr: [u8; 4] }
///
/// # fn example(map: Map) -> ebpf_skeleton::Result<()> {
/// let routes = LpmTrie::<Ipv4Key, u32>::try_from(map)?;
/// routes.insert(&Ipv4Key { prefixlen: 8, addr: [10, 0, 0, 0] }, &1, UpdateFlags::ANY)?;
/// // The value of the longest stored prefix of 10.1.2.3: `Some(1)` unless a
/// // longer one than 10.0.0.0/8 is stored too.
/// let route = routes.get(&Ipv4Key { prefixlen: 32, addr: [10, 1, 2, 3] })?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// [`LpmTrie::get`] finds the longest stored prefix that matches the key's
/// first `prefixlen` bits (pass the full length to look up an address);
/// [`LpmTrie::insert`] and [`LpmTrie::remove`] work on exact prefixes.
/// The map must be created with `BPF_F_NO_PREALLOC`, as the kernel demands.
pub struct LpmTrie<K, V> {
    map: Map,
    _types: PhantomData<fn() -> (K, V)>,
}

typed_map!(LpmTrie<K, V>, kinds: [LPM_TRIE], key: Some(size_of::<K>()), value: Some(size_of::<V>()));

impl<K: Pod, V: Pod> LpmTrie<K, V> {
    /// The value of the longest stored prefix matching `key`, or `None`.
    #[inline]
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        typed::lookup(&self.map, key)
    }

    /// Stores `value` under the prefix `key`.
    #[inline]
    pub fn insert(&self, key: &K, value: &V, flags: UpdateFlags) -> Result<()> {
        self.map.update(key.as_bytes(), value.as_bytes(), flags)
    }

    /// Removes the exact prefix `key`; `false` if it was not stored.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.delete(key.as_bytes())
    }

    /// The stored prefixes.
    pub fn keys(&self) -> TypedKeys<'_, K> {
        TypedKeys::new(&self.map)
    }

    /// The stored prefixes and their values.
    pub fn iter(&self) -> Entries<'_, K, V> {
        Entries::new(&self.map, typed::lookup::<K, V>)
    }

    /// Reads the prefixes after `cursor` with one `BPF_MAP_LOOKUP_BATCH`;
    /// see [`HashMap::get_batch`](super::HashMap::get_batch).
    pub fn get_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [K],
        values: &mut [V],
    ) -> Result<usize> {
        batch::get_plain(&self.map, cursor, keys, values)
    }

    /// Stores `values[i]` under `keys[i]` with one `BPF_MAP_UPDATE_BATCH`.
    /// The kernel takes only [`UpdateFlags::ANY`] and [`UpdateFlags::LOCK`]
    /// here (`EINVAL` otherwise).
    pub fn update_batch(&self, keys: &[K], values: &[V], flags: UpdateFlags) -> Result<()> {
        batch::update_plain(&self.map, keys, values, flags)
    }

    /// Removes the exact prefixes `keys` and returns how many were stored.
    pub fn delete_batch(&self, keys: &[K]) -> Result<usize> {
        batch::delete_keys(&self.map, keys)
    }

    /// Every stored prefix and its value, read in large batches.
    pub fn entries_batched(&self) -> Result<Vec<(K, V)>> {
        match batch::read_all(&self.map, batch::decode_plain::<V>)? {
            Some(entries) => Ok(entries),
            None => self.iter().collect(),
        }
    }

    /// The stored prefixes and their values, read `batch_size` at a time.
    pub fn iter_batched(&self, batch_size: usize) -> BatchIter<'_, K, V> {
        BatchIter::new(&self.map, batch_size, batch::decode_plain::<V>)
    }
}
