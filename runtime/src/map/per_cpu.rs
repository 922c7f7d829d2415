//! Per-CPU maps: `BPF_MAP_TYPE_PERCPU_HASH`, `BPF_MAP_TYPE_LRU_PERCPU_HASH`
//! and `BPF_MAP_TYPE_PERCPU_ARRAY`, whose every entry holds one value per
//! possible CPU.

use std::fmt;
use std::io;
use std::marker::PhantomData;

use super::batch::{self, BatchCursor, BatchIter};
use super::create::{create_as, spec_of};
use super::typed::{typed_map, Entries, TypedKeys};
use super::{Map, MapType, UpdateFlags};
use crate::error::Result;
use crate::pod::PodSlice as _;
use crate::Pod;

/// One `V` per possible CPU ([`crate::possible_cpus`]), as per-CPU maps
/// store them: in the kernel's layout, each value in a slot of its size
/// rounded up to 8 bytes.
///
/// ```no_run
/// use ebpf_skeleton::{PerCpuHashMap, PerCpuValues, UpdateFlags};
///
/// # fn example(map: &PerCpuHashMap<u32, u64>, key: u32) -> ebpf_skeleton::Result<()> {
/// let mut values = PerCpuValues::<u64>::repeat(0)?;
/// values.set(1, 42);
/// map.insert(&key, &values, UpdateFlags::ANY)?;
/// let total: u64 = map.get(&key)?.map_or(0, |v| v.iter().sum());
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct PerCpuValues<V> {
    /// `cpus` slots of `stride()` bytes; u64 words keep them 8-byte aligned.
    words: Vec<u64>,
    cpus: usize,
    _value: PhantomData<fn() -> V>,
}

impl<V: Pod> PerCpuValues<V> {
    /// The kernel's distance in bytes between two CPUs' values.
    pub fn stride() -> usize {
        size_of::<V>().next_multiple_of(8)
    }

    /// Zero for every possible CPU. Fails when the kernel's list of
    /// possible CPUs cannot be read.
    pub fn zeroed() -> Result<Self> {
        Ok(Self::with_cpus(crate::possible_cpus()?))
    }

    /// `value` for every possible CPU.
    pub fn repeat(value: V) -> Result<Self> {
        Self::from_fn(|_| value)
    }

    /// `f(cpu)` for every possible CPU.
    pub fn from_fn(mut f: impl FnMut(usize) -> V) -> Result<Self> {
        let mut values = Self::zeroed()?;
        for cpu in 0..values.cpus {
            values.set(cpu, f(cpu));
        }
        Ok(values)
    }

    /// Zero for each of `cpus` CPUs.
    fn with_cpus(cpus: usize) -> Self {
        PerCpuValues {
            words: vec![0; Self::stride() / 8 * cpus],
            cpus,
            _value: PhantomData,
        }
    }

    /// Zero for each CPU whose value a lookup in `map` returns (the map
    /// knows how many CPUs the kernel has).
    fn for_map(map: &Map) -> Self {
        Self::with_cpus(map.value_buffer_size() / Self::stride())
    }

    /// The number of values: one per possible CPU.
    pub fn len(&self) -> usize {
        self.cpus
    }

    /// Whether there are no values (never: there is at least one CPU).
    pub fn is_empty(&self) -> bool {
        self.cpus == 0
    }

    /// The value of `cpu`, or `None` past the last possible CPU.
    pub fn get(&self, cpu: usize) -> Option<V> {
        self.slot(cpu).and_then(|bytes| V::read_from_bytes(bytes))
    }

    /// Sets the value of `cpu`; `false` (and nothing set) past the last
    /// possible CPU.
    pub fn set(&mut self, cpu: usize, value: V) -> bool {
        let (start, size) = (cpu.saturating_mul(Self::stride()), size_of::<V>());
        match self
            .words
            .as_mut_bytes()
            .get_mut(start..start.saturating_add(size))
        {
            Some(slot) if cpu < self.cpus => {
                slot.copy_from_slice(value.as_bytes());
                true
            }
            _ => false,
        }
    }

    /// The values, CPU 0 first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = V> + '_ {
        (0..self.cpus).map(|cpu| self.get(cpu).unwrap_or_else(V::new_zeroed))
    }

    /// The values in a vector, CPU 0 first.
    pub fn to_vec(&self) -> Vec<V> {
        self.iter().collect()
    }

    /// The values in the kernel's layout.
    pub fn as_bytes(&self) -> &[u8] {
        self.words.as_bytes()
    }

    /// The values in the kernel's layout, for a lookup to fill.
    pub(super) fn as_mut_bytes(&mut self) -> &mut [u8] {
        self.words.as_mut_bytes()
    }

    /// Values copied from the kernel's layout; `None` if `bytes` is not one
    /// entry's worth.
    pub(super) fn from_kernel_bytes(bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(Self::stride()) {
            return None;
        }
        let mut values = Self::with_cpus(bytes.len() / Self::stride());
        values.as_mut_bytes().copy_from_slice(bytes);
        Some(values)
    }

    fn slot(&self, cpu: usize) -> Option<&[u8]> {
        if cpu >= self.cpus {
            return None;
        }
        let start = cpu * Self::stride();
        self.words.as_bytes().get(start..start + size_of::<V>())
    }
}

impl<V: Pod + PartialEq> PartialEq for PerCpuValues<V> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<V: Pod + Eq> Eq for PerCpuValues<V> {}

impl<V: Pod + fmt::Debug> fmt::Debug for PerCpuValues<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The value of `key` as [`PerCpuValues`], for [`Entries`].
fn lookup_per_cpu<K: Pod, V: Pod>(map: &Map, key: &K) -> Result<Option<PerCpuValues<V>>> {
    let mut values = PerCpuValues::for_map(map);
    Ok(map
        .lookup_into(key.as_bytes(), values.as_mut_bytes())?
        .then_some(values))
}

/// `get_batch` of a per-CPU map: the kernel's layout in one buffer, then
/// copied out.
fn get_batch_per_cpu<K: Pod, V: Pod>(
    map: &Map,
    cursor: &mut BatchCursor,
    keys: &mut [K],
    values: &mut [PerCpuValues<V>],
) -> Result<usize> {
    let count = keys.len().min(values.len());
    let size = map.value_buffer_size();
    let Some(len) = count.checked_mul(size) else {
        return Err(map.error("lookup batch", io::Error::from_raw_os_error(libc::E2BIG)));
    };
    let mut buf = vec![0u8; len];
    let n = batch::lookup(map, cursor, keys.as_mut_bytes(), &mut buf, count)?;
    for (value, bytes) in values.iter_mut().zip(buf.chunks_exact(size.max(1))).take(n) {
        let dst = value.as_mut_bytes();
        if dst.len() == bytes.len() {
            dst.copy_from_slice(bytes);
        }
    }
    Ok(n)
}

/// `update_batch` of a per-CPU map: the values laid out one after another.
fn update_batch_per_cpu<K: Pod, V: Pod>(
    map: &Map,
    keys: &[K],
    values: &[PerCpuValues<V>],
    flags: UpdateFlags,
) -> Result<()> {
    batch::same_length(map, "update batch", keys.len(), values.len())?;
    let buf: Vec<u8> = values.iter().flat_map(|v| v.as_bytes()).copied().collect();
    batch::update(map, keys.as_bytes(), &buf, keys.len(), flags)
}

/// A per-CPU hash map (`BPF_MAP_TYPE_PERCPU_HASH` or
/// `BPF_MAP_TYPE_LRU_PERCPU_HASH`): each key holds one `V` per possible CPU,
/// which programs on that CPU read and write without atomics.
///
/// Made from a [`Map`] with `PerCpuHashMap::<K, V>::try_from(map)`, which
/// checks the kind and that `K` and `V` have the map's key and (one CPU's)
/// value sizes.
pub struct PerCpuHashMap<K, V> {
    map: Map,
    _types: PhantomData<fn() -> (K, V)>,
}

typed_map!(
    PerCpuHashMap<K, V>,
    kinds: [PERCPU_HASH, LRU_PERCPU_HASH],
    key: Some(size_of::<K>()),
    value: Some(size_of::<V>()),
);

impl<K: Pod, V: Pod> PerCpuHashMap<K, V> {
    /// Creates a per-CPU hash map of no object (`BPF_MAP_TYPE_PERCPU_HASH`)
    /// for up to `max_entries` keys, each with a value per possible CPU.
    pub fn create(name: impl Into<String>, max_entries: u32) -> Result<Self> {
        create_as(spec_of::<K, V>(name, MapType::PERCPU_HASH, max_entries))
    }

    /// The values under `key`, one per CPU, or `None`.
    pub fn get(&self, key: &K) -> Result<Option<PerCpuValues<V>>> {
        lookup_per_cpu(&self.map, key)
    }

    /// Like [`PerCpuHashMap::get`], into `values`, allocating nothing;
    /// `false` (and `values` unspecified) when there is no entry.
    pub fn get_into(&self, key: &K, values: &mut PerCpuValues<V>) -> Result<bool> {
        self.map.lookup_into(key.as_bytes(), values.as_mut_bytes())
    }

    /// Stores `values` (one per CPU) under `key`.
    pub fn insert(&self, key: &K, values: &PerCpuValues<V>, flags: UpdateFlags) -> Result<()> {
        self.map.update(key.as_bytes(), values.as_bytes(), flags)
    }

    /// Removes the entry under `key`; `false` if there was none.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.delete(key.as_bytes())
    }

    /// The map's keys.
    pub fn keys(&self) -> TypedKeys<'_, K> {
        TypedKeys::new(&self.map)
    }

    /// The map's entries, key by key.
    pub fn iter(&self) -> Entries<'_, K, PerCpuValues<V>> {
        Entries::new(&self.map, lookup_per_cpu::<K, V>)
    }

    /// Reads the entries after `cursor` with one `BPF_MAP_LOOKUP_BATCH`;
    /// see [`HashMap::get_batch`](super::HashMap::get_batch).
    pub fn get_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [K],
        values: &mut [PerCpuValues<V>],
    ) -> Result<usize> {
        get_batch_per_cpu(&self.map, cursor, keys, values)
    }

    /// Stores `values[i]` under `keys[i]` with one `BPF_MAP_UPDATE_BATCH`
    /// (flags: [`UpdateFlags::ANY`] or [`UpdateFlags::LOCK`]).
    pub fn update_batch(
        &self,
        keys: &[K],
        values: &[PerCpuValues<V>],
        flags: UpdateFlags,
    ) -> Result<()> {
        update_batch_per_cpu(&self.map, keys, values, flags)
    }

    /// Removes the entries under `keys` and returns how many there were.
    pub fn delete_batch(&self, keys: &[K]) -> Result<usize> {
        batch::delete_keys(&self.map, keys)
    }

    /// Every entry of the map, read in large batches.
    pub fn entries_batched(&self) -> Result<Vec<(K, PerCpuValues<V>)>> {
        match batch::read_all(&self.map, PerCpuValues::<V>::from_kernel_bytes)? {
            Some(entries) => Ok(entries),
            None => self.iter().collect(),
        }
    }

    /// The map's entries, read `batch_size` at a time.
    pub fn iter_batched(&self, batch_size: usize) -> BatchIter<'_, K, PerCpuValues<V>> {
        BatchIter::new(&self.map, batch_size, PerCpuValues::<V>::from_kernel_bytes)
    }
}

/// A per-CPU array (`BPF_MAP_TYPE_PERCPU_ARRAY`): each index holds one `V`
/// per possible CPU.
///
/// Made from a [`Map`] with `PerCpuArray::<V>::try_from(map)`.
pub struct PerCpuArray<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(PerCpuArray<V>, kinds: [PERCPU_ARRAY], key: Some(4), value: Some(size_of::<V>()));

impl<V: Pod> PerCpuArray<V> {
    /// Creates a per-CPU array of no object (`BPF_MAP_TYPE_PERCPU_ARRAY`)
    /// of `len` slots, each with a zeroed value per possible CPU.
    pub fn create(name: impl Into<String>, len: u32) -> Result<Self> {
        create_as(spec_of::<u32, V>(name, MapType::PERCPU_ARRAY, len))
    }

    /// The number of indexes (the map's `max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no indexes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values at `index`, one per CPU; `None` past the end.
    pub fn get(&self, index: u32) -> Result<Option<PerCpuValues<V>>> {
        lookup_per_cpu(&self.map, &index)
    }

    /// Like [`PerCpuArray::get`], into `values`, allocating nothing.
    pub fn get_into(&self, index: u32, values: &mut PerCpuValues<V>) -> Result<bool> {
        self.map
            .lookup_into(index.as_bytes(), values.as_mut_bytes())
    }

    /// Stores `values` (one per CPU) at `index`.
    pub fn set(&self, index: u32, values: &PerCpuValues<V>, flags: UpdateFlags) -> Result<()> {
        self.map.update(index.as_bytes(), values.as_bytes(), flags)
    }

    /// The `(index, values)` pairs in index order.
    pub fn iter(&self) -> Entries<'_, u32, PerCpuValues<V>> {
        Entries::new(&self.map, lookup_per_cpu::<u32, V>)
    }

    /// Reads the entries after `cursor` with one `BPF_MAP_LOOKUP_BATCH`.
    pub fn get_batch(
        &self,
        cursor: &mut BatchCursor,
        indexes: &mut [u32],
        values: &mut [PerCpuValues<V>],
    ) -> Result<usize> {
        get_batch_per_cpu(&self.map, cursor, indexes, values)
    }

    /// Stores `values[i]` at `indexes[i]` with one `BPF_MAP_UPDATE_BATCH`
    /// (flags: [`UpdateFlags::ANY`] or [`UpdateFlags::LOCK`]).
    pub fn update_batch(
        &self,
        indexes: &[u32],
        values: &[PerCpuValues<V>],
        flags: UpdateFlags,
    ) -> Result<()> {
        update_batch_per_cpu(&self.map, indexes, values, flags)
    }

    /// Every `(index, values)` pair, read in large batches.
    pub fn entries_batched(&self) -> Result<Vec<(u32, PerCpuValues<V>)>> {
        match batch::read_all(&self.map, PerCpuValues::<V>::from_kernel_bytes)? {
            Some(entries) => Ok(entries),
            None => self.iter().collect(),
        }
    }

    /// The `(index, values)` pairs, read `batch_size` at a time.
    pub fn iter_batched(&self, batch_size: usize) -> BatchIter<'_, u32, PerCpuValues<V>> {
        BatchIter::new(&self.map, batch_size, PerCpuValues::<V>::from_kernel_bytes)
    }
}
