//! Global variables: a data section's memory, shared with the kernel.
//!
//! After load, `.bss`, `.data` and `.rodata` are array maps the kernel lets
//! user space mmap. A [`Section`] maps one and shows it as a generated view
//! struct whose fields are [`Volatile`](crate::Volatile) (or [`ReadOnly`](crate::ReadOnly)) cells: each access
//! is an atomic copy of the field, never a cached value, and no syscall.

use std::marker::PhantomData;
use std::ops::Deref;
use std::os::fd::AsFd;

use crate::error::{Error, Result};
use crate::map::{Map, MapType};
use crate::os::mmap::{page_size, Mmap};
use crate::Pod;

/// The view of a data section that a [`Section`] shows.
///
/// # Safety
/// Implementors are `#[repr(C)]` structs, not packed, made only of
/// [`Volatile`](crate::Volatile) or [`ReadOnly`](crate::ReadOnly) fields (padding included), so that any bytes
/// are a valid value and every access goes through a cell. Views whose
/// fields are [`Volatile`](crate::Volatile) must set `WRITABLE`. `ebpf_skeleton!` generates
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
