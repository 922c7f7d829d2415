//! Global variables: a data section's memory, shared with the kernel.
//!
//! After load, `.bss`, `.data` and `.rodata` are array maps the kernel lets
//! user space mmap. A [`Section`] maps one and shows it as a generated view
//! struct whose fields are [`Volatile`] (or [`ReadOnly`]) cells: each access
//! is an atomic copy of the field, never a cached value, and no syscall.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64};

use crate::error::{Error, Result};
use crate::map::{Map, MapType};
use crate::os::atomic;
use crate::os::mmap::{page_size, Mmap};
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
///
/// It is `Send` and `Sync` when its view is (generated views are: their
/// cells are atomic), so an `Arc<Objects>` may be shared by threads.
pub struct Section<V: SectionView> {
    /// The section's memory, unmapped on drop.
    mmap: Mmap,
    name: String,
    _view: PhantomData<V>,
    /// Keeps the map alive as long as the mapping.
    map: Map,
}

impl<V: SectionView> Section<V> {
    /// Maps `map` as a `V`. The map must be the data section `V` shows
    /// (`V::SECTION`): an mmap-able array of one value of the section's size,
    /// named as libbpf names that section; anything else is an error.
    pub fn new(map: Map) -> Result<Self> {
        check_section::<V>(&map)?;
        let size = map.info().value_size as usize;
        let len = size.next_multiple_of(page_size()).max(page_size());
        let mmap = Mmap::new(map.as_fd(), len, 0, V::WRITABLE).map_err(|e| map.error("mmap", e))?;
        Ok(Section {
            mmap,
            name: map.name().to_owned(),
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
        // SAFETY: the mapping is live, at least `size_of::<V>()` bytes (the
        // view is at most 15 bytes of padding longer than the section, which
        // lie in the same page), page aligned, and `V` is valid for any bytes
        // and only accessed through its cells (SectionView's contract).
        unsafe { &*self.mmap.ptr().cast::<V>() }
    }
}

impl<V: SectionView> std::fmt::Debug for Section<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Section").field("name", &self.name).finish()
    }
}

/// Fails unless `map` is the data section `V` shows.
fn check_section<V: SectionView>(map: &Map) -> Result<()> {
    let info = map.info();
    let problem = if info.map_type != MapType::ARRAY {
        format!("it is a {} map, not a data section's array", info.map_type)
    } else if info.flags & libbpf_sys::BPF_F_MMAPABLE == 0 {
        "it is an array user space cannot map (no BPF_F_MMAPABLE)".to_owned()
    } else if info.max_entries != 1 || info.value_size as usize != V::SIZE {
        format!(
            "it holds {} value(s) of {} bytes, the section `{}` is one of {} bytes",
            info.max_entries,
            info.value_size,
            V::SECTION,
            V::SIZE
        )
    } else if size_of::<V>() < V::SIZE || size_of::<V>() >= V::SIZE + 16 {
        format!(
            "the view is {} bytes, the section {}",
            size_of::<V>(),
            V::SIZE
        )
    } else if !names_section(map.kernel_name(), V::SECTION) {
        format!("its name is not that of the section `{}`", V::SECTION)
    } else {
        return Ok(());
    };
    Err(Error::Section {
        map: map.name().to_owned(),
        section: V::SECTION,
        problem,
    })
}

/// Whether a map's kernel name is libbpf's name for the data section
/// `section`: `<object prefix>.bss` for `.bss`, `.data`, `.rodata` and
/// `.kconfig` (the prefix has no dot), the section's own name for
/// `.data.<x>` and `.rodata.<x>`; either cut to the kernel's 15 characters.
fn names_section(map: &str, section: &str) -> bool {
    const NAME_MAX: usize = 15;
    // libbpf turns what the kernel does not take in names into `_`.
    let section: String = section
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let custom = section.get(1..).is_some_and(|s| s.contains('.'));
    if custom || section.len() >= NAME_MAX {
        return map == &section[..section.len().min(NAME_MAX)];
    }
    map.strip_suffix(section.as_str())
        .is_some_and(|prefix| !prefix.contains('.'))
}

/// The plain struct of a data section, which `Specs` holds before load:
/// [`Pod`] (every `Pod` type is one), or `Pod` but for C `bool` variables
/// held as Rust `bool`s at the byte offsets [`SectionData::BOOLS`].
///
/// # Safety
/// A `#[repr(C)]` type without padding, valid for all zeroes, with a
/// `bool` at each offset of `BOOLS` and, at every other byte, fields that
/// any bytes are a valid value of. `ebpf_skeleton!` implements it for the
/// section structs it generates.
pub unsafe trait SectionData: Copy + 'static {
    /// The byte offsets of `bool`s, in ascending order.
    const BOOLS: &'static [usize];
}

// SAFETY: `Pod` types have no padding and any bytes are a value.
unsafe impl<T: Pod> SectionData for T {
    const BOOLS: &'static [usize] = &[];
}

/// The bytes of a section's plain struct.
pub(crate) fn data_bytes<T: SectionData>(value: &T) -> &[u8] {
    // SAFETY: `SectionData` types have no padding, so all their bytes are
    // initialized and borrowed with `value`.
    unsafe { std::slice::from_raw_parts((value as *const T).cast(), size_of::<T>()) }
}

/// All zeroes, a valid value of any section's plain struct.
pub(crate) fn data_zeroed<T: SectionData>() -> T {
    // SAFETY: `SectionData` types are valid for all zeroes.
    unsafe { std::mem::zeroed() }
}

/// Reads a section's bytes as `T`, which is the section's size rounded up
/// to its alignment (the padding reads as zeroes); a `bool`'s byte reads
/// as `true` unless it is 0. The value is built on the heap, never on the
/// stack: a section can be hundreds of megabytes (a scheduler's tables).
pub(crate) fn read_plain<T: SectionData>(bytes: &[u8], section: &str) -> Result<Box<T>> {
    check_plain::<T>(bytes.len(), section, "read the initial value")?;
    let mut value = boxed_zeroed::<T>();
    let dst = (&mut *value as *mut T).cast::<u8>();
    // Copy the bytes between the bools as they are, and each bool as a 0
    // or a 1, so that the value is valid at every step.
    let mut copied = 0;
    for &at in T::BOOLS.iter().filter(|&&at| at < bytes.len()) {
        // SAFETY: `copied <= at < bytes.len() <= size_of::<T>()`: the
        // ranges lie in both `bytes` and the value, which do not overlap;
        // a byte between bools may be anything (SectionData's contract).
        unsafe {
            std::ptr::copy_nonoverlapping(bytes[copied..at].as_ptr(), dst.add(copied), at - copied);
            dst.add(at).write(u8::from(bytes[at] != 0));
        }
        copied = at + 1;
    }
    let rest = &bytes[copied.min(bytes.len())..];
    // SAFETY: as above, for the bytes after the last bool.
    unsafe { std::ptr::copy_nonoverlapping(rest.as_ptr(), dst.add(copied), rest.len()) };
    Ok(value)
}

/// A `T` of all zeroes, allocated on the heap directly.
fn boxed_zeroed<T: SectionData>() -> Box<T> {
    // No `T` value may appear here, not even in a branch not taken: in an
    // unoptimized build its room on the stack is reserved all the same.
    let layout = std::alloc::Layout::new::<T>();
    let ptr = if layout.size() == 0 {
        std::ptr::NonNull::<T>::dangling().as_ptr()
    } else {
        // SAFETY: the layout's size is not zero.
        unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>()
    };
    if ptr.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: allocated by the global allocator with `T`'s layout, as
    // `Box` allocates (a dangling, aligned pointer for a zero-sized `T`, as
    // `Box` uses); all zeroes are a valid `T` (SectionData's contract).
    unsafe { Box::from_raw(ptr) }
}

/// The bytes of `value` a section of `len` bytes holds.
pub(crate) fn plain_bytes<'a, T: SectionData>(
    value: &'a T,
    len: usize,
    section: &str,
) -> Result<&'a [u8]> {
    check_plain::<T>(len, section, "set the initial value")?;
    Ok(&data_bytes(value)[..len])
}

fn check_plain<T>(len: usize, section: &str, op: &'static str) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::names_section;

    #[test]
    fn section_names_match_exactly() {
        assert!(names_section("counter.bss", ".bss"));
        assert!(names_section("counter.data", ".data"));
        assert!(names_section(".data.stats", ".data.stats"));
        // A custom section named `.data.data` is not `.data`.
        assert!(!names_section(".data.data", ".data"));
        assert!(!names_section("counter.bss", ".data"));
        assert!(names_section(".data.a_very_lo", ".data.a_very_long_name"));
        assert!(!names_section("events", ".bss"));
    }
}
