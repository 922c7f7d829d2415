//! Load precompiled eBPF objects from Rust with types, not strings.
//!
//! `ebpf_skeleton!("prog.bpf.o")` reads a compiled eBPF object at compile
//! time and expands into a module with typed `Specs` (the object parsed,
//! nothing in the kernel) and `Objects` (loaded), with one field per program
//! and per map. This crate is the runtime that generated code calls: a thin,
//! owning layer over libbpf.
//!
//! ```no_run
//! # /* The path as users write it, relative to the invoking file; this
//! #    doctest reads the repository's copy of the object instead.
//! ebpf_skeleton::ebpf_skeleton!("bpf/counter.bpf.o"); // `pub mod counter`
//! # */
//! # ebpf_skeleton::ebpf_skeleton!("../../tests/bpf/counter.bpf.o");
//!
//! # fn main() -> ebpf_skeleton::Result<()> {
//! let objs = counter::Specs::new()?.load()?;
//! let _links = objs.attach()?;
//! let count: Option<u64> = objs.maps.counts.get(&42)?; // a `HashMap<u32, u64>`
//! # Ok(())
//! # }
//! ```
//!
//! To load only part of an object, name that part in a struct of your own
//! and derive [`Objects`]; every name, kind and key or value size is checked
//! at compile time:
//!
//! ```no_run
//! use ebpf_skeleton::{Objects, Program, RingBuf};
//!
//! #[derive(Objects)]
//! # /*
//! #[ebpf(object = "bpf/execsnoop.bpf.o")]
//! # */
//! # #[ebpf(object = "../../examples/execsnoop/bpf/execsnoop.bpf.o")]
//! struct Tracer {
//!     handle_exec: Program,
//!     #[ebpf(name = "events")]
//!     ring: RingBuf,
//! }
//!
//! # fn main() -> ebpf_skeleton::Result<()> {
//! let tracer = Tracer::load()?;
//! let _link = tracer.handle_exec.attach()?;
//! let mut records = tracer.ring.reader()?;
//! # Ok(())
//! # }
//! ```
//!
//! A record type of your own is checked against a struct of the object's
//! BTF with [`layout`], which also makes it [`Pod`], as
//! [`RingBufReader::next_as`] needs:
//!
//! ```no_run
//! # /*
//! #[ebpf_skeleton::layout(object = "bpf/execsnoop.bpf.o", btf = "event")]
//! # */
//! # #[ebpf_skeleton::layout(object = "../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
//! #[repr(C)]
//! #[derive(Clone, Copy)]
//! struct Event { pid: u32, ppid: u32, uid: u32, comm: [u8; 16], filename: [u8; 256] }
//!
//! # fn example(records: &mut ebpf_skeleton::RingBufReader) -> ebpf_skeleton::Result<()> {
//! while let Some(event) = records.next_as::<Event>()? {
//!     println!("pid {} exec'd", event.pid);
//! }
//! # Ok(())
//! # }
//! # fn main() {}
//! ```
//!
//! Kernel objects are owned values: a [`Map`] owns its file descriptor, a
//! [`Program`] and a [`Link`] keep their object alive, and everything is
//! released when dropped. libbpf's own messages go to the [`log`] crate under
//! the target `libbpf`.

#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

// The layers, bottom up; each uses only those above it in this list.
// System: descriptors, mappings, atomics, epoll, CPUs, errno; libbpf getters.
mod libbpf;
mod os;
// The error type, libbpf's messages, "did you mean".
mod error;
mod names;
mod print;
// The shared object handle (with its lock) and process-wide claims.
mod claim;
mod handle;
// Maps, links, programs, globals, readers; kernel types (BTF).
pub mod btf;
mod cell;
mod global;
pub mod link;
pub mod loaded;
pub mod map;
pub mod perf;
mod pod;
pub mod printk;
mod program;
pub mod ringbuf;
pub mod section;
// What composes them: objects, load options, feature probes; then what
// generated code calls.
pub mod features;
mod object;
mod options;
mod private;
mod struct_ops;

pub use cell::{CellValue, ReadOnly, Volatile};
pub use ebpf_skeleton_asm as asm;
pub use ebpf_skeleton_macros::{asm, ebpf_skeleton, layout, Objects, Pod};
pub use error::{Error, Kind, Result};
pub use global::{Section, SectionData, SectionView};
/// The raw libbpf bindings this crate is built on, for what it does not wrap.
pub use libbpf_sys;
pub use link::{Link, Links};
pub use map::{
    Arena, Array, ArrayOfMaps, BatchCursor, BloomFilter, CgroupArray, CgrpStorage, CpuMap, DevMap,
    DevMapHash, HashMap, HashOfMaps, InodeStorage, LpmTrie, MappedArray, PerCpuArray,
    PerCpuHashMap, PerCpuValues, PerfEventArray, ProgramArray, Queue, ReuseportArray, RingBuf,
    SkStorage, SockHash, SockMap, Stack, StackTraceMap, TaskStorage, UserRingBuf, XskMap,
};
pub use map::{Map, MapInfo, MapSpec, MapType, UpdateFlags};
pub use object::{attach_all, attach_skeleton, Object, OpenObject, OpenOptions};
pub use options::LoadOptions;
pub use perf::{PerfEvent, PerfOptions, PerfReader, Wakeup};
pub use pod::Pod;
pub use program::{
    enable_stats, tag_hash, AttachType, Program, ProgramBuilder, ProgramDevice, ProgramInfo,
    ProgramSpec, ProgramType, StatsGuard, TestRun, TestRunResult,
};
pub use ringbuf::{Record, RingBufPoller, RingBufReader, UserRingBufWriter, UserSample};
pub use struct_ops::StructOps;
/// zerocopy, for byte conversions beyond [`Pod`]'s (generated types are
/// `Pod` directly; they do not implement zerocopy's traits).
pub use zerocopy;

/// The number of CPUs the kernel may ever bring up; per-CPU maps hold one
/// value for each. Read from `/sys/devices/system/cpu/possible` once it
/// succeeds; a failure (no sysfs, no descriptor left) is an error, and the
/// next call tries again.
pub fn possible_cpus() -> Result<usize> {
    os::cpus::possible_cpus().map_err(|source| Error::sys("reading the possible CPUs", source))
}

#[doc(hidden)]
pub mod __private {
    pub use crate::private::*;
}
