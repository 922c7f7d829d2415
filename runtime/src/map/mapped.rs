//! Arrays mapped into this process: `BPF_MAP_TYPE_ARRAY` created with
//! `BPF_F_MMAPABLE` (Linux 5.5), read and written where they lie, without
//! a system call.
//!
//! Programs write the values while user space reads them, so values are
//! [`Volatile`] cells, each access atomic, as with data sections: nothing
//! lends a `&V` into the array.

use std::io;
use std::marker::PhantomData;
use std::os::fd::AsFd;

use super::typed::typed_map;
use super::{Array, Map};
use crate::cell::Volatile;
use crate::error::Result;
use crate::os::mmap::{page_size, Mmap};
use crate::Pod;

/// An mmap-able array (`BPF_MAP_TYPE_ARRAY` with `BPF_F_MMAPABLE`) of
/// `len()` values of type `V`, mapped into this process: each value is a
/// [`Volatile`] cell read and written with atomic accesses (word by word
/// beyond 8 bytes), no system call. Linux 5.5.
///
/// ```no_run
/// use ebpf_skeleton::{Array, MappedArray};
/// use std::sync::atomic::Ordering;
///
/// # fn example(stats: &Array<u64>) -> ebpf_skeleton::Result<()> {
/// let stats: MappedArray<u64> = stats.mapped()?;
/// stats.set(0, 10)?;
/// let seen = stats.get(1);
/// stats.cell(2).unwrap().atomic().fetch_add(1, Ordering::Relaxed);
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `MappedArray::<V>::try_from(map)` (which maps
/// it writable: an array the kernel lets no one write from user space, one
/// frozen or made with `BPF_F_RDONLY_PROG`, fails), or from an [`Array`]
/// with [`Array::mapped`]. The skeleton gives mmap-able arrays as
/// [`Array`]s; a `#[derive(Objects)]` field may be a `MappedArray` directly.
pub struct MappedArray<V> {
    map: Map,
    mmap: Mmap,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(
    MappedArray<V>,
    kinds: [ARRAY],
    key: Some(4),
    value: Some(size_of::<V>()),
    open: MappedArray::open,
);

impl<V: Pod> MappedArray<V> {
    fn open(map: Map) -> Result<Self> {
        if map.info().flags & libbpf_sys::BPF_F_MMAPABLE == 0 {
            return Err(map.error(
                "mmap",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the array was not created with BPF_F_MMAPABLE, so it cannot be mapped",
                ),
            ));
        }
        let len = (Self::stride() * map.info().max_entries as usize)
            .next_multiple_of(page_size())
            .max(page_size());
        let mmap = Mmap::new(map.as_fd(), len, 0, true).map_err(|e| map.error("mmap", e))?;
        Ok(MappedArray {
            map,
            mmap,
            _types: PhantomData,
        })
    }

    /// The kernel's distance in bytes between two values: the value size
    /// rounded up to 8.
    fn stride() -> usize {
        size_of::<V>().next_multiple_of(8)
    }

    /// The number of values (the map's `max_entries`).
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index` as a cell; `None` past the end.
    #[inline]
    pub fn cell(&self, index: u32) -> Option<&Volatile<V>> {
        if index >= self.len() {
            return None;
        }
        let at = self
            .mmap
            .ptr()
            .wrapping_add(index as usize * Self::stride());
        // SAFETY: `Volatile<V>` is a transparent `UnsafeCell<V>`. The value
        // lies inside the live, writable mapping (index < len), aligned for
        // `V` (the mapping is page aligned and the stride a multiple of 8
        // and of `V`'s size); every access to it is atomic and any bytes
        // are a valid `V`.
        Some(unsafe { &*at.cast::<Volatile<V>>() })
    }

    /// The value at `index`, copied out; `None` past the end.
    #[inline]
    pub fn get(&self, index: u32) -> Option<V> {
        self.cell(index).map(Volatile::get)
    }

    /// Stores `value` at `index`; past the end fails with `E2BIG`, as
    /// [`Array::set`] does.
    #[inline]
    pub fn set(&self, index: u32, value: V) -> Result<()> {
        let cell = self.cell(index).ok_or_else(|| {
            self.map
                .error("set", io::Error::from_raw_os_error(libc::E2BIG))
        })?;
        cell.set(value);
        Ok(())
    }

    /// Every value's cell, in index order.
    pub fn cells(&self) -> impl Iterator<Item = &Volatile<V>> + '_ {
        (0..self.len()).filter_map(|i| self.cell(i))
    }
}

impl<V: Pod> Array<V> {
    /// The array mapped into this process ([`MappedArray`]), through a
    /// descriptor of its own; the array must have been created with
    /// `BPF_F_MMAPABLE`.
    pub fn mapped(&self) -> Result<MappedArray<V>> {
        MappedArray::try_from(self.map().try_clone()?)
    }
}
