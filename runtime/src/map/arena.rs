//! Arenas: `BPF_MAP_TYPE_ARENA`, memory shared by programs and user space,
//! page by page. Linux 6.9.
//!
//! Programs allocate pages (`bpf_arena_alloc_pages`), declare `__arena`
//! globals and keep pointers into the arena; user space sees the same
//! memory at the address the arena is mapped at, where a program's pointer
//! (once cast to a user pointer) is a plain address. The kernel lets a
//! process map an arena once, at one address: libbpf maps the arenas of an
//! object when it loads it, and an [`Arena`] of such an object reads
//! libbpf's mapping (keeping the object open while it lives); an arena
//! reached otherwise (a pin, a descriptor) is mapped by the `Arena` itself.
//!
//! Programs write the arena while user space reads it, so nothing here
//! lends a `&T` or `&[u8]` into it: values are copied in and out with
//! atomic accesses, and [`Arena::cell`] lends a [`Volatile`] cell, as data
//! sections do.

use std::io;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::ptr::NonNull;

use libbpf_sys as sys;

use super::typed::typed_map;
use super::{raw_info, Map};
use crate::cell::Volatile;
use crate::error::Result;
use crate::handle::{keep_arena_open, KeepOpen};
use crate::os::atomic;
use crate::os::mmap::{page_size, Mmap};
use crate::Pod;

/// libbpf's mapping of an arena of a loaded object, and what keeps it
/// mapped: the object, open.
#[derive(Debug, Clone)]
pub(super) struct LibbpfArena {
    /// The mapping's start.
    ptr: NonNull<u8>,
    len: usize,
    _keep: KeepOpen,
}

// SAFETY: `ptr` is the start of libbpf's mapping, which stays mapped while
// `_keep` keeps its object open; nothing but an `Arena` dereferences it,
// and an `Arena` accesses the memory only atomically, from any thread.
unsafe impl Send for LibbpfArena {}
// SAFETY: as above.
unsafe impl Sync for LibbpfArena {}

impl LibbpfArena {
    /// libbpf's mapping of `map`, when it is an arena of a loaded object.
    pub(super) fn of(map: NonNull<sys::bpf_map>) -> Option<Self> {
        let map = map.as_ptr();
        // SAFETY: `map` belongs to a loaded object, kept open by the caller.
        if unsafe { sys::bpf_map__type(map) } != sys::BPF_MAP_TYPE_ARENA {
            return None;
        }
        let keep = keep_arena_open(NonNull::new(map)?)?;
        let mut size = 0usize;
        // SAFETY: as above; for an arena libbpf returns its mapping's start.
        let addr = unsafe { sys::bpf_map__initial_value(map, (&mut size as *mut usize).cast()) };
        // SAFETY: as above.
        let pages = unsafe { sys::bpf_map__max_entries(map) } as usize;
        Some(LibbpfArena {
            ptr: NonNull::new(addr.cast::<u8>())?,
            len: pages * page_size(),
            _keep: keep,
        })
    }
}

/// The arena's memory in this process.
#[derive(Debug)]
enum Memory {
    /// Mapped by this handle.
    Own(Mmap),
    /// libbpf's mapping, of the object this handle keeps open.
    Libbpf(LibbpfArena),
}

/// An arena (`BPF_MAP_TYPE_ARENA`): up to 4 GiB of memory shared with
/// programs, `max_entries` pages, each allocated by a program or on first
/// touch. Linux 6.9.
///
/// Offsets count from the arena's start; [`Arena::offset_of`] turns a
/// pointer a program stored into one. Every access is atomic (word by word
/// beyond 8 bytes), never a cached value; a program may free a page at any
/// time, after which it reads as zeroes.
///
/// ```no_run
/// use ebpf_skeleton::Arena;
///
/// # fn example(arena: &Arena, ptr_from_program: u64) -> ebpf_skeleton::Result<()> {
/// let at = arena.offset_of(ptr_from_program).expect("a pointer into the arena");
/// let value: u64 = arena.read(at)?;
/// arena.write(at + 8, &(value + 1))?;
/// let counter = arena.cell::<u64>(at + 16)?;
/// counter.atomic().fetch_add(1, std::sync::atomic::Ordering::Relaxed);
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `Arena::try_from(map)`. An arena created with
/// `BPF_F_SEGV_ON_FAULT` kills the process that touches a page no program
/// allocated: its memory is refused to safe code ([`Arena::read`] and the
/// others fail).
pub struct Arena {
    map: Map,
    memory: Memory,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(Arena, kinds: [ARENA], key: None, value: None, open: Arena::open);

impl Arena {
    fn open(map: Map) -> Result<Self> {
        let memory = match map.libbpf_arena() {
            Some(libbpf) => Memory::Libbpf(libbpf.clone()),
            None => Memory::Own(Self::map_memory(&map)?),
        };
        Ok(Arena {
            map,
            memory,
            _types: PhantomData,
        })
    }

    /// Maps the arena where the kernel wants it: at the address it was
    /// created for (`map_extra`), or where the kernel chooses.
    fn map_memory(map: &Map) -> Result<Mmap> {
        let info = raw_info(map.as_fd()).map_err(|e| map.error("read the arena's address", e))?;
        let len = info.max_entries as usize * page_size();
        Mmap::new_at(map.as_fd(), len, info.map_extra as usize).map_err(|e| {
            let busy = matches!(
                e.raw_os_error(),
                Some(libc::EBUSY | libc::EEXIST | libc::EINVAL)
            );
            if !busy {
                return map.error("mmap the arena", e);
            }
            map.error(
                "mmap the arena",
                io::Error::new(
                    e.kind(),
                    format!(
                        "{e}: the kernel maps an arena at one address in every process, and \
                         this one has it mapped already (take the Arena from its object, or \
                         share one Arena) or cannot tell where (it was created without \
                         map_extra and mapped elsewhere first)"
                    ),
                ),
            )
        })
    }

    /// The arena's size in bytes (`max_entries` pages).
    pub fn len(&self) -> usize {
        match &self.memory {
            Memory::Own(mmap) => mmap.len(),
            Memory::Libbpf(libbpf) => libbpf.len,
        }
    }

    /// Whether the arena has no pages.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The address the arena starts at in this process, which is what
    /// programs' pointers into it are relative to.
    pub fn address(&self) -> usize {
        self.base() as usize
    }

    fn base(&self) -> *mut u8 {
        match &self.memory {
            Memory::Own(mmap) => mmap.ptr(),
            Memory::Libbpf(libbpf) => libbpf.ptr.as_ptr(),
        }
    }

    /// The offset of the user-space `address` a program stored (an arena
    /// pointer cast to a user pointer), or `None` when it is not inside the
    /// arena.
    pub fn offset_of(&self, address: u64) -> Option<usize> {
        let offset = usize::try_from(address).ok()?.checked_sub(self.address())?;
        (offset < self.len()).then_some(offset)
    }

    /// The `T` at `offset`, copied out (any alignment).
    pub fn read<T: Pod>(&self, offset: usize) -> Result<T> {
        let mut value = T::new_zeroed();
        self.read_bytes(offset, value.as_mut_bytes())?;
        Ok(value)
    }

    /// Writes `value` at `offset` (any alignment).
    pub fn write<T: Pod>(&self, offset: usize, value: &T) -> Result<()> {
        self.write_bytes(offset, value.as_bytes())
    }

    /// Copies `out.len()` bytes at `offset` into `out`.
    pub fn read_bytes(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        let at = self.at("read", offset, out.len(), 1)?;
        // SAFETY: `at` starts `out.len()` bytes inside the live mapping
        // (checked by `at`), every page of which may be touched (no
        // SEGV_ON_FAULT); this process accesses the arena only atomically.
        unsafe { atomic::load_bytes(at, out) };
        Ok(())
    }

    /// Copies `bytes` into the arena at `offset`.
    pub fn write_bytes(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        let at = self.at("write", offset, bytes.len(), 1)?;
        // SAFETY: as in `read_bytes`; the mapping is writable.
        unsafe { atomic::store_bytes(at, bytes) };
        Ok(())
    }

    /// The `T` at `offset` as a cell, read and written atomically, with
    /// [`Volatile::atomic`] for read-modify-write on integers. `offset` must
    /// be aligned for `T`.
    pub fn cell<T: Pod>(&self, offset: usize) -> Result<&Volatile<T>> {
        let at = self.at("borrow a cell", offset, size_of::<T>(), align_of::<T>())?;
        // SAFETY: `Volatile<T>` is a transparent `UnsafeCell<T>`; `at` is
        // aligned for `T` and its bytes lie inside the writable mapping,
        // which lives as long as `self`; every access to the cell is atomic
        // and any bytes are a valid `T`.
        Ok(unsafe { &*at.cast::<Volatile<T>>() })
    }

    /// The address of `len` bytes at `offset`, aligned to `align`, after
    /// checking that safe code may touch them.
    fn at(&self, op: &'static str, offset: usize, len: usize, align: usize) -> Result<*mut u8> {
        let problem = if self.map.info().flags & sys::BPF_F_SEGV_ON_FAULT != 0 {
            "it was created with BPF_F_SEGV_ON_FAULT: touching a page no program \
             allocated would kill this process"
                .to_owned()
        } else if offset.checked_add(len).is_none_or(|end| end > self.len()) {
            format!(
                "{len} bytes at offset {offset} are not inside its {} bytes",
                self.len()
            )
        } else if !(self.address() + offset).is_multiple_of(align) {
            format!("offset {offset} is not aligned to {align} bytes")
        } else {
            return Ok(self.base().wrapping_add(offset));
        };
        Err(self
            .map
            .error(op, io::Error::new(io::ErrorKind::InvalidInput, problem)))
    }
}
