//! Batched operations (`BPF_MAP_LOOKUP_BATCH`, `BPF_MAP_UPDATE_BATCH`,
//! `BPF_MAP_DELETE_BATCH`): many entries a system call, and the whole-map
//! reads built on them (`entries_batched`, `iter_batched`).
//!
//! The typed maps call these with their keys and values as bytes in the
//! kernel's layout; the checks here make sure the buffers hold the number of
//! entries the kernel is told about.

use std::io;
use std::ptr;

use libbpf_sys as sys;

use super::{Map, UpdateFlags};
use crate::error::{check, Error, Result};
use crate::os::errno::ENOTSUPP;
use crate::pod::PodSlice as _;
use crate::Pod;

/// Bytes of keys and values a whole-map read asks for per system call:
/// enough to make the calls few, little enough for the buffers to stay in
/// the CPU's caches (larger batches measured slower).
const BATCH_BYTES: usize = 64 << 10;

/// Where a batched read of a map resumes: the kernel's opaque position
/// (`in_batch` / `out_batch`). Start with [`BatchCursor::new`], pass it to
/// each `get_batch` call; once [`BatchCursor::is_done`], the map has been
/// read to its end.
#[derive(Debug, Clone, Default)]
pub struct BatchCursor {
    /// The position the next call starts from (unused before the first).
    in_token: Vec<u8>,
    /// Where the kernel writes the position after the entries it returned.
    out_token: Vec<u8>,
    started: bool,
    done: bool,
}

impl BatchCursor {
    /// A cursor at the start of the map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the map has been read to its end.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Goes back to the start of the map.
    pub fn reset(&mut self) {
        self.started = false;
        self.done = false;
    }
}

/// Checks that `keys` and `values` (when given) hold `count` entries.
fn check_buffers(
    map: &Map,
    op: &'static str,
    count: usize,
    keys: usize,
    values: Option<usize>,
) -> Result<()> {
    let key_size = map.info().key_size as usize;
    let value_size = map.value_buffer_size();
    let holds = |len: usize, size: usize| count.checked_mul(size).is_some_and(|n| n <= len);
    if holds(keys, key_size) && values.is_none_or(|v| holds(v, value_size)) {
        return Ok(());
    }
    Err(Error::BatchLength {
        op,
        map: map.name().to_owned(),
        keys: keys.checked_div(key_size).unwrap_or(0),
        values: values.unwrap_or(0).checked_div(value_size).unwrap_or(0),
    })
}

fn opts(elem_flags: u64) -> sys::bpf_map_batch_opts {
    sys::bpf_map_batch_opts {
        sz: size_of::<sys::bpf_map_batch_opts>() as _,
        elem_flags,
        flags: 0,
    }
}

/// Reads up to `count` entries after `cursor` into `keys` and `values` (in
/// the kernel's layout) and returns how many it read; 0 once the cursor is
/// done. `ENOSPC` (one of the map's hash buckets has more entries than
/// `count`) is an error that leaves the cursor where it was, so a retry
/// with larger buffers goes on from there.
pub(super) fn lookup(
    map: &Map,
    cursor: &mut BatchCursor,
    keys: &mut [u8],
    values: &mut [u8],
    count: usize,
) -> Result<usize> {
    read(map, Read::Lookup, cursor, keys, values, count)
}

/// Whether a batch read leaves the entries it read in the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// `BPF_MAP_LOOKUP_BATCH`
    Lookup,
    /// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: each entry read is removed in the
    /// same step, so no update between a read and a clear is lost.
    Take,
}

/// [`lookup`], or with `Read::Take` a lookup-and-delete batch.
pub(super) fn read(
    map: &Map,
    mode: Read,
    cursor: &mut BatchCursor,
    keys: &mut [u8],
    values: &mut [u8],
    count: usize,
) -> Result<usize> {
    let op = match mode {
        Read::Lookup => "lookup batch",
        Read::Take => "lookup and delete batch",
    };
    if cursor.done || count == 0 {
        return Ok(0);
    }
    check_buffers(map, op, count, keys.len(), Some(values.len()))?;
    // A hash map's position is a 4-byte bucket index, another map's a key.
    let token = (map.info().key_size as usize).max(8);
    cursor.in_token.resize(token, 0);
    cursor.out_token.resize(token, 0);
    let in_batch = if cursor.started {
        cursor.in_token.as_mut_ptr()
    } else {
        ptr::null_mut()
    };
    let mut n = u32::try_from(count).unwrap_or(u32::MAX);
    let opts = opts(0);
    // SAFETY: `keys` and `values` hold `n` entries of the map's key and
    // value buffer sizes (checked above); both tokens hold the largest
    // position the kernel reads or writes for this map.
    let call = match mode {
        Read::Lookup => sys::bpf_map_lookup_batch,
        Read::Take => sys::bpf_map_lookup_and_delete_batch,
    };
    // SAFETY: `keys` and `values` hold `n` entries of the map's key and
    // value buffer sizes (checked above); both tokens hold the largest
    // position the kernel reads or writes for this map.
    let ret = unsafe {
        call(
            map.raw(),
            in_batch.cast(),
            cursor.out_token.as_mut_ptr().cast(),
            keys.as_mut_ptr().cast(),
            values.as_mut_ptr().cast(),
            &mut n,
            &opts,
        )
    };
    let n = (n as usize).min(count);
    match check(ret) {
        Ok(_) => {
            std::mem::swap(&mut cursor.in_token, &mut cursor.out_token);
            cursor.started = true;
            // The kernel returns early only at the end (ENOENT) or when the
            // next bucket does not fit, so nothing read means the end.
            cursor.done = n == 0;
            Ok(n)
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            cursor.done = true;
            Ok(n)
        }
        Err(source) => Err(map.error(op, source)),
    }
}

/// Writes `count` entries in one system call. On failure the entries
/// before the failing one are written.
pub(super) fn update(
    map: &Map,
    keys: &[u8],
    values: &[u8],
    count: usize,
    flags: UpdateFlags,
) -> Result<()> {
    const OP: &str = "update batch";
    if count == 0 {
        return Ok(());
    }
    check_buffers(map, OP, count, keys.len(), Some(values.len()))?;
    let Ok(mut n) = u32::try_from(count) else {
        return Err(map.error(OP, io::Error::from_raw_os_error(libc::E2BIG)));
    };
    let opts = opts(flags.0);
    // SAFETY: `keys` and `values` hold `n` entries (checked above); the
    // kernel only reads them.
    let ret = unsafe {
        sys::bpf_map_update_batch(
            map.raw(),
            keys.as_ptr().cast(),
            values.as_ptr().cast(),
            &mut n,
            &opts,
        )
    };
    check(ret).map_err(|source| map.error(OP, source))?;
    Ok(())
}

/// Deletes the entries under the first `count` keys and returns how many
/// there were: a key without an entry is skipped, not an error.
pub(super) fn delete(map: &Map, keys: &[u8], count: usize) -> Result<usize> {
    const OP: &str = "delete batch";
    check_buffers(map, OP, count, keys.len(), None)?;
    let key_size = map.info().key_size as usize;
    let opts = opts(0);
    let (mut done, mut deleted) = (0, 0);
    while done < count {
        let rest = count - done;
        let mut n = u32::try_from(rest).unwrap_or(u32::MAX);
        let Some(first) = keys.get(done * key_size..) else {
            break;
        };
        // SAFETY: `first` holds the `rest` >= `n` keys not yet deleted
        // (checked above); the kernel only reads them.
        let ret =
            unsafe { sys::bpf_map_delete_batch(map.raw(), first.as_ptr().cast(), &mut n, &opts) };
        let n = (n as usize).min(rest);
        match check(ret) {
            Ok(_) => {
                deleted += n;
                done += n.max(1);
            }
            // The kernel stops at the first key without an entry: skip it.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                deleted += n;
                done += n + 1;
            }
            Err(source) => return Err(map.error(OP, source)),
        }
    }
    Ok(deleted)
}

/// How many entries a whole-map read asks for per system call.
fn default_batch(map: &Map) -> usize {
    let entry = map.info().key_size as usize + map.value_buffer_size();
    (BATCH_BYTES / entry.max(1)).clamp(1, (map.info().max_entries as usize).max(1))
}

/// Whether a failed first batch means the kernel cannot batch this map.
fn unsupported(e: &Error) -> bool {
    matches!(e.errno(), Some(ENOTSUPP | libc::EOPNOTSUPP | libc::EINVAL))
}

/// Turns one entry's value bytes (kernel layout) into a value.
pub(super) type Decode<V> = fn(&[u8]) -> Option<V>;

/// A value of a map whose values are plain `V`s.
pub(super) fn decode_plain<V: Pod>(bytes: &[u8]) -> Option<V> {
    V::read_from_bytes(bytes)
}

fn decode_error<V>(map: &Map) -> Error {
    Error::Size {
        op: "lookup batch",
        map: map.name().to_owned(),
        what: "value",
        expected: map.value_buffer_size(),
        actual: size_of::<V>(),
    }
}

/// Reads a map batch by batch, growing the batch when a hash bucket does not
/// fit (`ENOSPC`).
struct Reader<'a> {
    map: &'a Map,
    mode: Read,
    cursor: BatchCursor,
    batch: usize,
}

impl<'a> Reader<'a> {
    fn new(map: &'a Map, mode: Read, batch: usize) -> Self {
        // A batch never needs to be larger than the map.
        let most = (map.info().max_entries as usize).max(1);
        Reader {
            map,
            mode,
            cursor: BatchCursor::new(),
            batch: batch.clamp(1, most),
        }
    }

    /// Appends the next batch to `keys` and `values` (nothing once the
    /// cursor is done).
    fn next_into<K: Pod>(&mut self, keys: &mut Vec<K>, values: &mut Vec<u8>) -> Result<()> {
        let value_size = self.map.value_buffer_size();
        let most = (self.map.info().max_entries as usize).max(1);
        loop {
            if self.cursor.done {
                return Ok(());
            }
            let (k0, v0) = (keys.len(), values.len());
            keys.resize(k0 + self.batch, K::new_zeroed());
            values.resize(v0 + self.batch * value_size, 0);
            let key_bytes = keys.get_mut(k0..).unwrap_or_default().as_mut_bytes();
            let value_bytes = values.get_mut(v0..).unwrap_or_default();
            match read(
                self.map,
                self.mode,
                &mut self.cursor,
                key_bytes,
                value_bytes,
                self.batch,
            ) {
                Ok(n) => {
                    keys.truncate(k0 + n);
                    values.truncate(v0 + n * value_size);
                    return Ok(());
                }
                Err(e) => {
                    keys.truncate(k0);
                    values.truncate(v0);
                    // A bucket larger than the batch: a bucket holds at most
                    // every entry, so growing up to max_entries ends this.
                    if e.errno() == Some(libc::ENOSPC) && self.batch < most {
                        self.batch = self.batch.saturating_mul(2).min(most);
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }
}

/// Every entry of `map` read in batches, or `None` when the kernel cannot
/// batch this map (the caller falls back to key-by-key iteration).
pub(super) fn read_all<K: Pod, V>(map: &Map, decode: Decode<V>) -> Result<Option<Vec<(K, V)>>> {
    read_all_as(map, Read::Lookup, decode)
}

/// [`read_all`], or with `Read::Take` every entry taken out of the map.
pub(super) fn read_all_as<K: Pod, V>(
    map: &Map,
    mode: Read,
    decode: Decode<V>,
) -> Result<Option<Vec<(K, V)>>> {
    let mut reader = Reader::new(map, mode, default_batch(map));
    // One batch's buffers, reused: small enough to stay in the CPU's caches
    // while the kernel fills them.
    let (mut keys, mut values) = (Vec::<K>::new(), Vec::new());
    let value_size = map.value_buffer_size();
    let mut entries = Vec::new();
    while !reader.cursor.done {
        keys.clear();
        values.clear();
        if let Err(e) = reader.next_into(&mut keys, &mut values) {
            if !reader.cursor.started && unsupported(&e) {
                return Ok(None);
            }
            return Err(e);
        }
        entries.reserve(keys.len());
        for (i, &key) in keys.iter().enumerate() {
            let bytes = values.get(i * value_size..(i + 1) * value_size);
            let value = bytes
                .and_then(decode)
                .ok_or_else(|| decode_error::<V>(map))?;
            entries.push((key, value));
        }
    }
    Ok(Some(entries))
}

/// The entries of a map as `(K, V)` pairs, read a batch at a time
/// (`BPF_MAP_LOOKUP_BATCH`); see e.g.
/// [`HashMap::iter_batched`](super::HashMap::iter_batched). Holds one batch
/// in memory; a hash bucket larger than the batch makes the batch grow.
pub struct BatchIter<'a, K, V> {
    reader: Reader<'a>,
    keys: Vec<K>,
    values: Vec<u8>,
    value_size: usize,
    pos: usize,
    decode: Decode<V>,
    failed: bool,
}

impl<'a, K: Pod, V> BatchIter<'a, K, V> {
    pub(super) fn new(map: &'a Map, batch: usize, decode: Decode<V>) -> Self {
        BatchIter {
            reader: Reader::new(map, Read::Lookup, batch),
            keys: Vec::new(),
            values: Vec::new(),
            value_size: map.value_buffer_size(),
            pos: 0,
            decode,
            failed: false,
        }
    }
}

impl<K: Pod, V> Iterator for BatchIter<'_, K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(&key) = self.keys.get(self.pos) {
                let start = self.pos * self.value_size;
                self.pos += 1;
                let bytes = self.values.get(start..start + self.value_size);
                return Some(match bytes.and_then(self.decode) {
                    Some(value) => Ok((key, value)),
                    None => Err(decode_error::<V>(self.reader.map)),
                });
            }
            if self.failed || self.reader.cursor.done {
                return None;
            }
            self.keys.clear();
            self.values.clear();
            self.pos = 0;
            if let Err(e) = self.reader.next_into(&mut self.keys, &mut self.values) {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}

/// `get_batch` of a map whose values are plain `V`s.
pub(super) fn get_plain<K: Pod, V: Pod>(
    map: &Map,
    cursor: &mut BatchCursor,
    keys: &mut [K],
    values: &mut [V],
) -> Result<usize> {
    let count = keys.len().min(values.len());
    lookup(
        map,
        cursor,
        keys.as_mut_bytes(),
        values.as_mut_bytes(),
        count,
    )
}

/// `take_batch` of a map whose values are plain `V`s.
pub(super) fn take_plain<K: Pod, V: Pod>(
    map: &Map,
    cursor: &mut BatchCursor,
    keys: &mut [K],
    values: &mut [V],
) -> Result<usize> {
    let count = keys.len().min(values.len());
    read(
        map,
        Read::Take,
        cursor,
        keys.as_mut_bytes(),
        values.as_mut_bytes(),
        count,
    )
}

/// `update_batch` of a map whose values are plain `V`s.
pub(super) fn update_plain<K: Pod, V: Pod>(
    map: &Map,
    keys: &[K],
    values: &[V],
    flags: UpdateFlags,
) -> Result<()> {
    same_length(map, "update batch", keys.len(), values.len())?;
    update(map, keys.as_bytes(), values.as_bytes(), keys.len(), flags)
}

/// `delete_batch` of any typed map.
pub(super) fn delete_keys<K: Pod>(map: &Map, keys: &[K]) -> Result<usize> {
    delete(map, keys.as_bytes(), keys.len())
}

pub(super) fn same_length(map: &Map, op: &'static str, keys: usize, values: usize) -> Result<()> {
    if keys == values {
        return Ok(());
    }
    Err(Error::BatchLength {
        op,
        map: map.name().to_owned(),
        keys,
        values,
    })
}
