//! eBPF maps: the byte-level handle every typed map builds on.

mod create;
mod flags;
mod keys;
mod kind;
mod spec;

mod arena;
mod array;
mod batch;
mod bloom;
mod hash;
mod key_value;
mod local_storage;
mod lpm;
mod mapped;
mod of_maps;
mod per_cpu;
mod pin;
mod prog_array;
mod queue_stack;
mod redirect;
mod ring_perf;
mod sockets;
mod stack_trace;
mod typed;

pub use flags::UpdateFlags;
pub use keys::Keys;
pub use kind::MapType;
pub use spec::MapSpec;

pub use arena::Arena;
pub use array::Array;
pub use batch::{BatchCursor, BatchIter};
pub use bloom::BloomFilter;
pub use hash::HashMap;
pub use local_storage::{CgrpStorage, InodeStorage, SkStorage, TaskStorage};
pub use lpm::LpmTrie;
pub use mapped::MappedArray;
pub use of_maps::{ArrayOfMaps, HashOfMaps};
pub use per_cpu::{PerCpuArray, PerCpuHashMap, PerCpuValues};
pub use prog_array::ProgramArray;
pub use queue_stack::{Queue, Stack};
pub use redirect::{CpuMap, CpuMapEntry, DevMap, DevMapEntry, DevMapHash, XskMap};
pub use ring_perf::{PerfEventArray, RingBuf, UserRingBuf};
pub use sockets::{socket_cookie, CgroupArray, ReuseportArray, SockHash, SockMap, SocketMap};
pub use stack_trace::StackTraceMap;
pub use typed::{Entries, TypedKeys};

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use libbpf_sys as sys;

use std::ptr::NonNull;

use crate::error::{Error, Result};
use crate::libbpf::map_name;
use crate::os::c_name;
use crate::os::errno::check;
use crate::os::fd::{expect_kind, ObjectKind};

/// What the kernel says about a map ([`Map::info`]), as `bpftool map
/// show` prints it. It is read once, when the handle is made: none of it
/// changes while the map lives.
///
/// ```no_run
/// # fn example(map: &ebpf_skeleton::Map) {
/// let info = map.info();
/// println!(
///     "{}: {} {:?} key {} B, value {} B, max {} entries, flags {:#x}",
///     info.id, map.kernel_name(), info.map_type, info.key_size, info.value_size,
///     info.max_entries, info.flags
/// );
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapInfo {
    /// The map's kind.
    pub map_type: MapType,
    /// The kernel's id for the map (as `bpftool map` shows it).
    pub id: u32,
    /// The size of a key in bytes.
    pub key_size: u32,
    /// The size of a value in bytes (for per-CPU maps, of one CPU's value).
    pub value_size: u32,
    /// The most entries the map holds.
    pub max_entries: u32,
    /// `BPF_F_*` flags the map was created with.
    pub flags: u32,
    /// The kind's extra setting (a bloom filter's number of hash functions,
    /// an arena's address).
    pub map_extra: u64,
}

/// A map in the kernel, owned through its own file descriptor.
///
/// Keys and values are byte slices here, checked against the map's sizes;
/// the typed maps wrap this.
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    name: String,
    /// The name the kernel has for the map (at most 15 characters).
    kernel_name: String,
    info: MapInfo,
    /// The bytes a lookup fills (one value per possible CPU for per-CPU
    /// maps, read when the handle is made).
    value_buffer: usize,
    /// For an arena of a loaded object, libbpf's mapping of it.
    arena: Option<arena::LibbpfArena>,
}

impl Map {
    /// Takes ownership of a map's file descriptor; `name` is what errors and
    /// [`Map::name`] call it. A descriptor of something other than a map
    /// (a program, a link) is refused.
    pub fn from_fd(fd: OwnedFd, name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let open_error = |source| Error::Map {
            op: "open",
            map: name.clone(),
            source,
        };
        expect_kind(fd.as_fd(), ObjectKind::Map).map_err(open_error)?;
        let raw = raw_info(fd.as_fd()).map_err(open_error)?;
        let info = MapInfo::from_raw(&raw);
        let value_buffer = if info.map_type.is_per_cpu() {
            let cpus = crate::os::cpus::possible_cpus().map_err(open_error)?;
            (info.value_size as usize).next_multiple_of(8) * cpus
        } else {
            info.value_size as usize
        };
        Ok(Map {
            fd,
            name,
            kernel_name: c_name(&raw.name),
            info,
            value_buffer,
            arena: None,
        })
    }

    /// Opens a map pinned in bpffs at `path`; its name is the kernel's. A
    /// pin of something other than a map is refused.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let what = || format!("opening the map pinned at {}", path.display());
        let fd = open_pin(path).map_err(|source| Error::sys(what(), source))?;
        expect_kind(fd.as_fd(), ObjectKind::Map).map_err(|source| Error::sys(what(), source))?;
        Map::from_kernel_fd(fd)
    }

    /// Opens the map with this kernel id (see [`crate::loaded`]); its name
    /// is the kernel's.
    pub fn from_id(id: u32) -> Result<Self> {
        Map::from_kernel_fd(crate::loaded::open(crate::loaded::Space::Map, id)?)
    }

    /// A map held by a descriptor this crate opened, named as the kernel
    /// names it.
    pub(crate) fn from_kernel_fd(fd: OwnedFd) -> Result<Self> {
        let name = kernel_name(fd.as_fd()).unwrap_or_default();
        Map::from_fd(fd, name)
    }

    /// A map of a loaded object, with a descriptor of its own.
    pub(crate) fn from_libbpf(libbpf_map: NonNull<sys::bpf_map>) -> Result<Self> {
        let map = libbpf_map.as_ptr();
        let name = map_name(map);
        // SAFETY: `map` belongs to a loaded object, which owns this fd.
        let fd = unsafe { sys::bpf_map__fd(map) };
        let fd = check(fd).map_err(|source| Error::Map {
            op: "open",
            map: name.clone(),
            source,
        })?;
        // SAFETY: the fd is open while the object is, which outlives this call.
        let fd = duplicate_fd(unsafe { BorrowedFd::borrow_raw(fd) }, &name)?;
        let mut handle = Map::from_fd(fd, name)?;
        handle.arena = arena::LibbpfArena::of(libbpf_map);
        Ok(handle)
    }

    /// Another handle of the same map, with a descriptor of its own.
    pub fn try_clone(&self) -> Result<Map> {
        let fd = duplicate_fd(self.fd.as_fd(), &self.name)?;
        Ok(Map {
            fd,
            name: self.name.clone(),
            kernel_name: self.kernel_name.clone(),
            info: self.info,
            value_buffer: self.value_buffer,
            arena: self.arena.clone(),
        })
    }

    /// libbpf's mapping of this map, for an arena of a loaded object.
    fn libbpf_arena(&self) -> Option<&arena::LibbpfArena> {
        self.arena.as_ref()
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name the kernel has for the map (as `bpftool map` shows it; at
    /// most 15 characters, so long names are cut).
    pub fn kernel_name(&self) -> &str {
        &self.kernel_name
    }

    /// What the kernel says about the map (see [`MapInfo`]).
    ///
    /// ```no_run
    /// # fn example(map: &ebpf_skeleton::Map) {
    /// assert_eq!(map.info().key_size, 4, "keyed by u32");
    /// # }
    /// # fn main() {}
    /// ```
    pub fn info(&self) -> &MapInfo {
        &self.info
    }

    /// The map's kind.
    pub fn map_type(&self) -> MapType {
        self.info.map_type
    }

    /// The size in bytes of the buffer a lookup fills: the value size, or for
    /// per-CPU maps one 8-byte-aligned value per possible CPU.
    pub fn value_buffer_size(&self) -> usize {
        self.value_buffer
    }

    /// The value stored under `key`, or `None`.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut value = vec![0u8; self.value_buffer_size()];
        Ok(self.lookup_into(key, &mut value)?.then_some(value))
    }

    /// Copies the value stored under `key` into `value`; `false` if there is
    /// none. `value` must be [`Map::value_buffer_size`] bytes.
    pub fn lookup_into(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.check_key("lookup", key)?;
        self.check_size("lookup", "value", self.value_buffer_size(), value.len())?;
        // SAFETY: both buffers have the sizes the map expects.
        let ret = unsafe {
            sys::bpf_map_lookup_elem(self.raw(), key_ptr(key), value.as_mut_ptr().cast())
        };
        self.found("lookup", ret)
    }

    /// Stores `value` under `key`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<()> {
        self.check_key("update", key)?;
        self.check_size("update", "value", self.value_buffer_size(), value.len())?;
        // SAFETY: both buffers have the sizes the map expects.
        let ret = unsafe {
            sys::bpf_map_update_elem(self.raw(), key_ptr(key), value.as_ptr().cast(), flags.0)
        };
        check(ret).map_err(|source| self.error("update", source))?;
        Ok(())
    }

    /// Removes the entry under `key`; `false` if there was none.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.check_key("delete", key)?;
        // SAFETY: the key has the size the map expects.
        let ret = unsafe { sys::bpf_map_delete_elem(self.raw(), key_ptr(key)) };
        self.found("delete", ret)
    }

    /// Removes and returns the entry under `key`, or for a queue or stack
    /// (pass an empty key) the next element; `None` when there is none.
    pub fn lookup_and_delete(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_key("lookup and delete", key)?;
        let mut value = vec![0u8; self.value_buffer_size()];
        // SAFETY: both buffers have the sizes the map expects.
        let ret = unsafe {
            sys::bpf_map_lookup_and_delete_elem(self.raw(), key_ptr(key), value.as_mut_ptr().cast())
        };
        Ok(self.found("lookup and delete", ret)?.then_some(value))
    }

    /// Like [`Map::lookup_and_delete`], into `value`, which must be
    /// [`Map::value_buffer_size`] bytes; `false` when there is no entry.
    pub fn lookup_and_delete_into(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        const OP: &str = "lookup and delete";
        self.check_key(OP, key)?;
        self.check_size(OP, "value", self.value_buffer_size(), value.len())?;
        // SAFETY: both buffers have the sizes the map expects.
        let ret = unsafe {
            sys::bpf_map_lookup_and_delete_elem(self.raw(), key_ptr(key), value.as_mut_ptr().cast())
        };
        self.found(OP, ret)
    }

    /// The map's keys, in the kernel's order. Entries added or removed while
    /// iterating may or may not be seen, as with `bpf_map_get_next_key`.
    pub fn keys(&self) -> Keys<'_> {
        Keys::new(self)
    }

    /// Pins the map at `path` in bpffs, so that it outlives this process.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = || format!("pinning map `{}` at {}", self.name, path.display());
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| Error::sys(what(), io::Error::other(e)))?;
        // SAFETY: a live fd and a valid C string.
        let ret = unsafe { sys::bpf_obj_pin(self.raw(), c_path.as_ptr()) };
        check(ret).map_err(|source| Error::sys(what(), source))?;
        Ok(())
    }

    pub(crate) fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    pub(crate) fn error(&self, op: &'static str, source: io::Error) -> Error {
        Error::Map {
            op,
            map: self.name.clone(),
            source,
        }
    }

    /// Ok(true) on success, Ok(false) on `ENOENT`, an error otherwise.
    fn found(&self, op: &'static str, ret: i32) -> Result<bool> {
        match check(ret) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(source) => Err(self.error(op, source)),
        }
    }

    pub(crate) fn check_key(&self, op: &'static str, key: &[u8]) -> Result<()> {
        self.check_size(op, "key", self.info.key_size as usize, key.len())
    }

    fn check_size(
        &self,
        op: &'static str,
        what: &'static str,
        expected: usize,
        actual: usize,
    ) -> Result<()> {
        if expected == actual {
            return Ok(());
        }
        Err(Error::Size {
            op,
            map: self.name.clone(),
            what,
            expected,
            actual,
        })
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A descriptor of its own of the map `name`, whose descriptor `fd` is (for
/// a handle or a reader that outlives the one it was made from).
pub(crate) fn duplicate_fd(fd: BorrowedFd<'_>, name: &str) -> Result<OwnedFd> {
    fd.try_clone_to_owned().map_err(|source| Error::Map {
        op: "duplicate the descriptor",
        map: name.to_owned(),
        source,
    })
}

/// The kernel wants NULL, not a dangling pointer, for the empty keys of
/// queues, stacks and bloom filters.
fn key_ptr(key: &[u8]) -> *const libc::c_void {
    if key.is_empty() {
        std::ptr::null()
    } else {
        key.as_ptr().cast()
    }
}

impl MapInfo {
    fn from_raw(info: &sys::bpf_map_info) -> Self {
        MapInfo {
            map_type: MapType(info.type_),
            id: info.id,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            flags: info.map_flags,
            map_extra: info.map_extra,
        }
    }
}

pub(crate) use crate::libbpf::open_pin;

pub(crate) use crate::libbpf::map_info as raw_info;

fn kernel_name(fd: BorrowedFd<'_>) -> io::Result<String> {
    Ok(c_name(&raw_info(fd)?.name))
}
