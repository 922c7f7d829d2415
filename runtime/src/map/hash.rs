//! Hash maps: `BPF_MAP_TYPE_HASH` and `BPF_MAP_TYPE_LRU_HASH`.

use std::marker::PhantomData;

use super::batch::{self, BatchCursor};
use super::create::{create_as, spec_of};
use super::key_value::key_value_map;
use super::typed::typed_map;
use super::{Map, MapType};
use crate::error::Result;
use crate::Pod;

/// A hash map (`BPF_MAP_TYPE_HASH` or `BPF_MAP_TYPE_LRU_HASH`) with keys of
/// type `K` and values of type `V`.
///
/// Made from a [`Map`] with `HashMap::<K, V>::try_from(map)`, which checks
/// the kind and that `K` and `V` have the map's key and value sizes.
///
/// ```no_run
/// use ebpf_skeleton::{HashMap, Map, UpdateFlags};
///
/// # fn example() -> ebpf_skeleton::Result<()> {
/// let map = Map::from_pin("/sys/fs/bpf/counts")?;
/// let counts = HashMap::<u32, u64>::try_from(map)?;
/// counts.insert(&7, &0, UpdateFlags::ANY)?;
/// let n: Option<u64> = counts.get(&7)?;
/// for (tid, calls) in counts.entries_batched()? {
///     println!("{tid}: {calls}");
/// }
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
pub struct HashMap<K, V> {
    map: Map,
    _types: PhantomData<fn() -> (K, V)>,
}

typed_map!(HashMap<K, V>, kinds: [HASH, LRU_HASH], key: Some(size_of::<K>()), value: Some(size_of::<V>()));

key_value_map!(
    HashMap,
    /// The value under `key`, or `None`. Allocates nothing: one
    /// `BPF_MAP_LOOKUP_ELEM`.
    get,
    /// Stores `value` under `key`; `flags` say whether the entry must or
    /// must not exist already (`EEXIST` / `ENOENT` otherwise). A full map
    /// fails with `E2BIG` (an LRU map evicts instead).
    insert,
    /// Removes the entry under `key`; `false` if there was none.
    remove,
    /// The map's keys, one `BPF_MAP_GET_NEXT_KEY` each.
    keys,
    /// The map's entries, key by key (two system calls an entry); for a
    /// whole map [`HashMap::entries_batched`] is much faster.
    iter,
    /// Reads the entries after `cursor` into `keys` and `values` (as many
    /// as the shorter of the two holds) with one `BPF_MAP_LOOKUP_BATCH`,
    /// and returns how many it read; 0 once [`BatchCursor::is_done`].
    ///
    /// A hash bucket is read whole: when the next bucket has more entries
    /// than the buffers hold, the call fails with `ENOSPC` and leaves the
    /// cursor as it was, so it can be retried with larger buffers.
    ///
    /// [`BatchCursor::is_done`]: super::BatchCursor::is_done
    get_batch,
    /// Stores `values[i]` under `keys[i]` with one `BPF_MAP_UPDATE_BATCH`.
    /// The kernel takes only [`UpdateFlags::ANY`] and [`UpdateFlags::LOCK`]
    /// here (`EINVAL` otherwise).
    /// On failure the entries before the failing one are stored.
    ///
    /// [`UpdateFlags::ANY`]: super::UpdateFlags::ANY
    /// [`UpdateFlags::LOCK`]: super::UpdateFlags::LOCK
    update_batch,
    /// Removes the entries under `keys` (`BPF_MAP_DELETE_BATCH`) and returns
    /// how many there were; keys without an entry are skipped.
    delete_batch,
    /// Every entry of the map, read in large batches: a few system calls for
    /// the whole map instead of two an entry. Falls back to [`HashMap::iter`]
    /// on kernels that cannot batch.
    entries_batched,
    /// The map's entries, read `batch_size` at a time (more when a hash
    /// bucket holds more), holding one batch in memory.
    iter_batched,
);

impl<K: Pod, V: Pod> HashMap<K, V> {
    /// Creates a hash map of no object (`BPF_MAP_TYPE_HASH`) for up to
    /// `max_entries` entries, for hand-written programs or as an inner map;
    /// the kernel keeps the first 15 characters of `name`.
    ///
    /// ```no_run
    /// use ebpf_skeleton::{HashMap, UpdateFlags};
    /// # fn example() -> ebpf_skeleton::Result<()> {
    /// let counts = HashMap::<u32, u64>::create("counts", 1024)?;
    /// counts.insert(&1, &0, UpdateFlags::ANY)?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn create(name: impl Into<String>, max_entries: u32) -> Result<Self> {
        create_as(spec_of::<K, V>(name, MapType::HASH, max_entries))
    }

    /// Like [`HashMap::create`], a hash map that evicts its least recently
    /// used entries when full (`BPF_MAP_TYPE_LRU_HASH`).
    pub fn create_lru(name: impl Into<String>, max_entries: u32) -> Result<Self> {
        create_as(spec_of::<K, V>(name, MapType::LRU_HASH, max_entries))
    }

    /// Like [`HashMap::get_batch`], removing each entry as it is read
    /// (`BPF_MAP_LOOKUP_AND_DELETE_BATCH`): an update a program makes to an
    /// entry is either in what is read or still in the map, never lost
    /// between a read and a clear.
    pub fn take_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [K],
        values: &mut [V],
    ) -> Result<usize> {
        batch::take_plain(&self.map, cursor, keys, values)
    }

    /// Takes every entry out of the map, in large batches: a read-then-clear
    /// that loses no update in between (see [`HashMap::take_batch`]).
    /// Kernels that cannot batch (before 5.6) say so with an error.
    pub fn take_all(&self) -> Result<Vec<(K, V)>> {
        batch::read_all_as(&self.map, batch::Read::Take, batch::decode_plain::<V>)?.ok_or_else(
            || {
                self.map.error(
                    "lookup and delete batch",
                    std::io::Error::from_raw_os_error(libc::EOPNOTSUPP),
                )
            },
        )
    }
}
