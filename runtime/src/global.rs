//! Global variables: a data section's memory, shared with the kernel.
//!
//! After load, `.bss`, `.data` and `.rodata` are array maps the kernel lets
//! user space mmap. A [`Section`] maps one and shows it as a generated view
//! struct whose fields are [`Volatile`] (or [`ReadOnly`]) cells: each access
//! is one volatile copy of the field, never a cached value, and no syscall.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64};

use crate::error::{Error, Result};
use crate::map::Map;
use crate::ringbuf::sys::{page_size, Mmap};
use crate::Pod;

/// A variable in memory the kernel writes concurrently. Reads and writes are
/// volatile copies of the whole value; for counters the program updates
/// atomically, use [`Volatile::atomic`].
#[repr(transparent)]
pub struct Volatile<T: Pod>(UnsafeCell<T>);

impl<T: Pod> Volatile<T> {
    /// The current value.
    pub fn get(&self) -> T {
        // SAFETY: the cell lies in a live mapping of at least its size (the
        // section checks the view's size), and every bit pattern is a `T`.
        unsafe { std::ptr::read_volatile(self.0.get()) }
    }

    /// Stores `value`, for the program to see on its next access.
    pub fn set(&self, value: T) {
        // SAFETY: as in `get`; the mapping is writable (see `Section`).
        unsafe { std::ptr::write_volatile(self.0.get(), value) }
    }
}

/// A variable user space may only read: `.rodata` after load, which the
/// kernel has frozen and maps read-only.
#[repr(transparent)]
pub struct ReadOnly<T: Pod>(UnsafeCell<T>);

impl<T: Pod> ReadOnly<T> {
    /// The value.
    pub fn get(&self) -> T {
        // SAFETY: as in `Volatile::get`.
        unsafe { std::ptr::read_volatile(self.0.get()) }
    }
}

macro_rules! atomic_view {
    ($($int:ty => $atomic:ty),*) => {$(
        impl Volatile<$int> {
            /// The variable as an atomic, for read-modify-write operations
            /// that race correctly with the program's `__sync_*` builtins.
            pub fn atomic(&self) -> &$atomic {
                // SAFETY: same size; the section asserts natural alignment of
                // every field (the generated layout is `repr(C)`, unpacked).
                unsafe { <$atomic>::from_ptr(self.0.get()) }
            }
        }
    )*};
}

atomic_view!(u32 => AtomicU32, u64 => AtomicU64, i32 => AtomicI32, i64 => AtomicI64);

impl<T: Pod + std::fmt::Debug> std::fmt::Debug for Volatile<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl<T: Pod + std::fmt::Debug> std::fmt::Debug for ReadOnly<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// The view of a data section that a [`Section`] shows.
///
/// # Safety
/// Implementors are `#[repr(C)]` structs, not packed, made only of
/// [`Volatile`] or [`ReadOnly`] fields (padding included), so that any bytes
/// are a valid value and every access goes through a cell. Views whose
/// fields are [`Volatile`] must set `WRITABLE`. `ebpf_skeleton!` generates
/// them; there is no need to write one by hand.
pub unsafe trait SectionView {
    /// Whether user space writes through the view (`.bss`, `.data`).
    const WRITABLE: bool;
    /// The ELF section the view shows (`.bss`, `.data.stats`, ...).
    const SECTION: &'static str;
    /// The section's size in bytes, as the object's BTF gives it (the view
    /// may be longer by its trailing alignment padding).
    const SIZE: usize;
}

/// A data section of a loaded object, mapped into this process.
pub struct Section<V: SectionView> {
    /// The section's memory, unmapped on drop.
    mmap: Mmap,
    name: String,
    _view: PhantomData<V>,
    /// Keeps the map alive as long as the mapping.
    map: Map,
}

// SAFETY: the mapping belongs to this value alone; sharing between threads
// is left out (`!Sync`): the cells are not atomic.
unsafe impl<V: SectionView> Send for Section<V> {}

impl<V: SectionView> Section<V> {
    /// Maps `map`, a data section's array map, as a `V`.
    pub fn new(map: Map) -> Result<Self> {
        let info = *map.info();
        let name = map.name().to_owned();
        let size = info.value_size as usize;
        let len = size.next_multiple_of(page_size()).max(page_size());
        // The view may be longer than the section by its trailing alignment
        // padding, which still lies inside the mapped page.
        if size_of::<V>() > len || size_of::<V>() >= size + 16 {
            return Err(Error::Size {
                op: "map the section",
                map: name,
                what: "value",
                expected: size,
                actual: size_of::<V>(),
            });
        }
        let mmap = Mmap::new(map.as_fd(), len, 0, V::WRITABLE).map_err(|e| map.error("mmap", e))?;
        Ok(Section {
            mmap,
            name,
            _view: PhantomData,
            map,
        })
    }

    /// The name of the section's map.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The section's array map (one entry, the whole section), for what
    /// the view does not do: pinning, or reading it as bytes.
    pub fn map(&self) -> &Map {
        &self.map
    }
}

impl<V: SectionView> Deref for Section<V> {
    type Target = V;

    fn deref(&self) -> &V {
        // SAFETY: the mapping is live, at least `size_of::<V>()` bytes, page
        // aligned, and `V` is valid for any bytes (SectionView's contract).
        unsafe { &*self.mmap.ptr().cast::<V>() }
    }
}

impl<V: SectionView> std::fmt::Debug for Section<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Section").field("name", &self.name).finish()
    }
}

/// Reads a section's bytes as `T`, which is the section's size rounded up
/// to its alignment (the padding reads as zeroes).
pub(crate) fn read_plain<T: Pod>(bytes: &[u8], section: &str) -> Result<T> {
    check_plain::<T>(bytes.len(), section, "read the initial value")?;
    let mut value = T::new_zeroed();
    value.as_mut_bytes()[..bytes.len()].copy_from_slice(bytes);
    Ok(value)
}

/// The bytes of `value` a section of `len` bytes holds.
pub(crate) fn plain_bytes<'a, T: Pod>(value: &'a T, len: usize, section: &str) -> Result<&'a [u8]> {
    check_plain::<T>(len, section, "set the initial value")?;
    Ok(&value.as_bytes()[..len])
}

fn check_plain<T: Pod>(len: usize, section: &str, op: &'static str) -> Result<()> {
    let size = size_of::<T>();
    if size >= len && size < len + 16 {
        return Ok(());
    }
    Err(Error::Size {
        op,
        map: section.to_owned(),
        what: "value",
        expected: len,
        actual: size,
    })
}
