//! Longest-prefix-match tries: `BPF_MAP_TYPE_LPM_TRIE`.

use std::marker::PhantomData;

use super::create::{create_as, spec_of};
use super::key_value::key_value_map;
use super::typed::typed_map;
use super::{Map, MapType};
use crate::error::Result;
use crate::Pod;

/// A longest-prefix-match trie (`BPF_MAP_TYPE_LPM_TRIE`).
///
/// `K` is the whole key struct as the C program declares it: a `u32`
/// prefix length in bits first, then the data (an address, say) in network
/// order, e.g.
///
/// ```no_run
/// use ebpf_skeleton::{LpmTrie, Map, Pod, UpdateFlags};
///
/// #[derive(Pod, Clone, Copy)]
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

key_value_map!(
    LpmTrie,
    /// The value of the longest stored prefix matching `key`, or `None`.
    get,
    /// Stores `value` under the prefix `key`.
    insert,
    /// Removes the exact prefix `key`; `false` if it was not stored.
    remove,
    /// The stored prefixes.
    keys,
    /// The stored prefixes and their values.
    iter,
    /// Reads the prefixes after `cursor` with one `BPF_MAP_LOOKUP_BATCH`;
    /// see [`HashMap::get_batch`](super::HashMap::get_batch).
    get_batch,
    /// Stores `values[i]` under `keys[i]` with one `BPF_MAP_UPDATE_BATCH`.
    /// The kernel takes only [`UpdateFlags::ANY`] and [`UpdateFlags::LOCK`]
    /// here (`EINVAL` otherwise).
    ///
    /// [`UpdateFlags::ANY`]: super::UpdateFlags::ANY
    /// [`UpdateFlags::LOCK`]: super::UpdateFlags::LOCK
    update_batch,
    /// Removes the exact prefixes `keys` and returns how many were stored.
    delete_batch,
    /// Every stored prefix and its value, read in large batches.
    entries_batched,
    /// The stored prefixes and their values, read `batch_size` at a time.
    iter_batched,
);

impl<K: Pod, V: Pod> LpmTrie<K, V> {
    /// Creates a trie of no object (`BPF_MAP_TYPE_LPM_TRIE`) for up to
    /// `max_entries` prefixes, with the `BPF_F_NO_PREALLOC` the kernel
    /// demands of tries.
    pub fn create(name: impl Into<String>, max_entries: u32) -> Result<Self> {
        let mut spec = spec_of::<K, V>(name, MapType::LPM_TRIE, max_entries);
        spec.flags = libbpf_sys::BPF_F_NO_PREALLOC;
        create_as(spec)
    }
}
