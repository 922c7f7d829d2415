//! Typed handles of the maps records stream through: `BPF_MAP_TYPE_RINGBUF`
//! and `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (programs to user space) and
//! `BPF_MAP_TYPE_USER_RINGBUF` (user space to programs).
//!
//! These check the kind and hold the map; the readers and the writer add
//! `reader()` and `writer()` to them where they live: `RingBuf::reader` and
//! `UserRingBuf::writer` in `crate::ringbuf`, `PerfEventArray::reader` in
//! `crate::perf` (each an `impl` block there, built on the public
//! [`RingBuf::map`] / [`UserRingBuf::map`] / [`PerfEventArray::map`]).

use std::marker::PhantomData;

use super::create::create_as;
use super::typed::typed_map;
use super::{Map, MapSpec, MapType};
use crate::error::Result;

/// A ring buffer (`BPF_MAP_TYPE_RINGBUF`) that programs write records to
/// (`bpf_ringbuf_output`, `bpf_ringbuf_reserve`), shared by every CPU.
///
/// Made from a [`Map`] with `RingBuf::try_from(map)`.
pub struct RingBuf {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(RingBuf, kinds: [RINGBUF], key: None, value: None);

impl RingBuf {
    /// Creates a ring buffer of no object (`BPF_MAP_TYPE_RINGBUF`) with a
    /// data area of `size` bytes: a power of two and a multiple of the page
    /// size, or the kernel refuses it.
    pub fn create(name: impl Into<String>, size: u32) -> Result<Self> {
        create_as(MapSpec::new(name, MapType::RINGBUF, 0, 0, size))
    }

    /// The size of the ring's data area in bytes (the map's `max_entries`).
    pub fn capacity(&self) -> usize {
        self.map.info().max_entries as usize
    }
}

/// A perf event array (`BPF_MAP_TYPE_PERF_EVENT_ARRAY`): programs write
/// samples (`bpf_perf_event_output`) to the perf event stored at a CPU's
/// index, each CPU having a ring of its own.
///
/// Made from a [`Map`] with `PerfEventArray::try_from(map)`.
pub struct PerfEventArray {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(PerfEventArray, kinds: [PERF_EVENT_ARRAY], key: Some(4), value: Some(4));

impl PerfEventArray {
    /// The number of slots (at least the number of possible CPUs, as libbpf
    /// sizes the map unless the program says otherwise).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`): user space writes
/// samples (through its one [`writer`](UserRingBuf::writer)), a program
/// takes them in order with `bpf_user_ringbuf_drain`. Linux 6.1.
///
/// ```no_run
/// # fn example(commands: &ebpf_skeleton::UserRingBuf) -> ebpf_skeleton::Result<()> {
/// let mut writer = commands.writer()?; // one per ring in this process
/// while !writer.write(b"reload")? {
///     // Full: wait for the program to drain (or give up after a second).
///     writer.wait_for_room(6, Some(std::time::Duration::from_secs(1)))?;
/// }
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `UserRingBuf::try_from(map)`.
pub struct UserRingBuf {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(UserRingBuf, kinds: [USER_RINGBUF], key: None, value: None);

impl UserRingBuf {
    /// The size of the ring's data area in bytes (the map's `max_entries`).
    pub fn capacity(&self) -> usize {
        self.map.info().max_entries as usize
    }
}
