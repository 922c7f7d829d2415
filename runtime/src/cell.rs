//! Cells over memory the kernel shares: [`Volatile`] and [`ReadOnly`], each
//! access an atomic copy of the value (never a cached one), for data
//! sections, mmap-able arrays and arenas alike. A leaf of the runtime: it
//! needs only the system layer's atomic accesses and [`Pod`].

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64};

use crate::os::atomic;
use crate::Pod;

/// What a [`Volatile`] or [`ReadOnly`] cell holds: any [`Pod`] type as it
/// is, and C's `bool` as Rust's, kept in memory as the byte it is in C
/// (the kernel may store any byte there: every byte but 0 reads as `true`).
pub trait CellValue: Copy + 'static {
    /// What lies in memory: the value itself, or `u8` for a `bool`.
    type Bits: Pod;

    /// The value `bits` hold.
    fn from_bits(bits: Self::Bits) -> Self;

    /// The bits that hold `self`.
    fn to_bits(self) -> Self::Bits;
}

impl<T: Pod> CellValue for T {
    type Bits = T;

    #[inline]
    fn from_bits(bits: T) -> T {
        bits
    }

    #[inline]
    fn to_bits(self) -> T {
        self
    }
}

impl CellValue for bool {
    type Bits = u8;

    #[inline]
    fn from_bits(bits: u8) -> bool {
        bits != 0
    }

    #[inline]
    fn to_bits(self) -> u8 {
        u8::from(self)
    }
}

impl<const N: usize> CellValue for [bool; N] {
    type Bits = [u8; N];

    #[inline]
    fn from_bits(bits: [u8; N]) -> Self {
        bits.map(|b| b != 0)
    }

    #[inline]
    fn to_bits(self) -> [u8; N] {
        self.map(u8::from)
    }
}

/// A variable in memory the kernel writes concurrently. Each read and write
/// is atomic (relaxed): one access for a naturally aligned field of 1, 2, 4
/// or 8 bytes, word by word for larger ones (see [`Volatile::get`]). For
/// counters the program updates with atomic instructions, use
/// [`Volatile::atomic`] for read-modify-write. A C `bool` is a
/// `Volatile<bool>` (see [`CellValue`]).
#[repr(transparent)]
pub struct Volatile<T: CellValue>(UnsafeCell<T::Bits>);

// SAFETY: every access to the cell is atomic (see `get` and `set`), so
// threads may share it as they share an `AtomicU64`.
unsafe impl<T: CellValue> Sync for Volatile<T> where T::Bits: Sync {}

impl<T: CellValue> Volatile<T> {
    /// The current value. A value wider than 8 bytes is read word by word,
    /// so a program changing it meanwhile can leave it half old, half new.
    #[inline]
    pub fn get(&self) -> T {
        // SAFETY: the cell lies in a live mapping of at least its size (the
        // section checks the view's size), aligned for its bits (the view
        // is repr(C) and page aligned); every access to it is atomic.
        T::from_bits(unsafe { atomic::load(self.0.get()) })
    }

    /// Stores `value`, for the program to see on its next access (word by
    /// word beyond 8 bytes).
    #[inline]
    pub fn set(&self, value: T) {
        // SAFETY: as in `get`; the mapping is writable (`SectionView::WRITABLE`
        // is set for every view with `Volatile` fields).
        unsafe { atomic::store(self.0.get(), &value.to_bits()) }
    }
}

/// A variable user space may only read: `.rodata` and `.kconfig` after
/// load, which the kernel has frozen and maps read-only.
#[repr(transparent)]
pub struct ReadOnly<T: CellValue>(UnsafeCell<T::Bits>);

// SAFETY: nothing writes the cell (the map is frozen and mapped read-only),
// and reads are atomic anyway.
unsafe impl<T: CellValue> Sync for ReadOnly<T> where T::Bits: Sync {}

impl<T: CellValue> ReadOnly<T> {
    /// The value.
    #[inline]
    pub fn get(&self) -> T {
        // SAFETY: as in `Volatile::get`.
        T::from_bits(unsafe { atomic::load(self.0.get()) })
    }
}

impl<T: Pod, const N: usize> Volatile<[T; N]> {
    /// The cell of element `index`, to read or write (or, for counters,
    /// update atomically) one element without copying the array, which
    /// may be larger than any stack; `None` past the end.
    pub fn at(&self, index: usize) -> Option<&Volatile<T>> {
        // SAFETY: `Volatile<T>` is a transparent `UnsafeCell<T>`, laid out
        // as `T`; element `index < N` lies inside this array, aligned for
        // `T`, and is borrowed for as long as the array's cell.
        (index < N).then(|| unsafe { &*self.0.get().cast::<T>().add(index).cast::<Volatile<T>>() })
    }
}

impl<T: Pod, const N: usize> ReadOnly<[T; N]> {
    /// The cell of element `index`, to read one element without copying
    /// the array; `None` past the end.
    pub fn at(&self, index: usize) -> Option<&ReadOnly<T>> {
        // SAFETY: as in `Volatile::at`.
        (index < N).then(|| unsafe { &*self.0.get().cast::<T>().add(index).cast::<ReadOnly<T>>() })
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

impl<T: CellValue + std::fmt::Debug> std::fmt::Debug for Volatile<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl<T: CellValue + std::fmt::Debug> std::fmt::Debug for ReadOnly<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}
