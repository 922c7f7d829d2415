//! Plain data: the types that can cross into and out of the kernel as bytes.

use std::mem::{size_of, size_of_val};

/// A type any bytes of its size are a valid value of: map keys and values,
/// ring buffer records, global variables.
///
/// Integers, floats and arrays of `Pod` are `Pod`; so is every type
/// `ebpf_skeleton!` generates. For a type of your own, derive it:
///
/// ```
/// #[derive(Clone, Copy, ebpf_skeleton::Pod)]
/// #[repr(C)]
/// struct Event {
///     pid: u32,
///     flags: u16,
///     _pad: [u8; 2], // padding spelled out: every byte is a field
///     stamp: u64,
/// }
/// ```
///
/// The derive checks at compile time that the struct is `#[repr(C)]` (or
/// `transparent`), that every field is `Pod` and that the fields fill the
/// struct: no padding. `#[ebpf_skeleton::layout]` does the same for a
/// struct it checks against the object's BTF.
///
/// # Safety
/// Every byte of a value is part of a field (no padding), any bytes are a
/// valid value (no `bool`, `char`, references, pointers, enums with
/// invalid discriminants), and the type has no interior mutability. The
/// provided methods must not be overridden.
pub unsafe trait Pod: Copy + 'static {
    /// The value's bytes.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Pod` has no padding, so all `size_of::<Self>()` bytes
        // behind `self` are initialized and borrowed with it.
        unsafe { std::slice::from_raw_parts((self as *const Self).cast(), size_of::<Self>()) }
    }

    /// The value's bytes, writable: any bytes are a value.
    fn as_mut_bytes(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_bytes`, and any bytes written are a valid `Self`.
        unsafe { std::slice::from_raw_parts_mut((self as *mut Self).cast(), size_of::<Self>()) }
    }

    /// All zeroes.
    fn new_zeroed() -> Self {
        // SAFETY: any bytes, zeroes included, are a valid `Self`.
        unsafe { std::mem::zeroed() }
    }

    /// The value `bytes` hold, when they are exactly its size.
    fn read_from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != size_of::<Self>() {
            return None;
        }
        // SAFETY: `bytes` holds `size_of::<Self>()` initialized bytes, any
        // of which are a valid `Self`; the read is unaligned.
        Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) })
    }

    /// The value at the start of `bytes`, and the bytes after it.
    fn read_from_prefix(bytes: &[u8]) -> Option<(Self, &[u8])> {
        let (head, rest) = bytes.split_at_checked(size_of::<Self>())?;
        Some((Self::read_from_bytes(head)?, rest))
    }

    /// `bytes` borrowed as a value, when they are its size and aligned.
    fn ref_from_bytes(bytes: &[u8]) -> Option<&Self> {
        if bytes.len() != size_of::<Self>() || !bytes.as_ptr().cast::<Self>().is_aligned() {
            return None;
        }
        // SAFETY: size and alignment checked; any bytes are a valid `Self`,
        // and `Self` has no interior mutability, so a shared borrow of the
        // bytes is a shared borrow of the value.
        Some(unsafe { &*bytes.as_ptr().cast::<Self>() })
    }
}

/// Slices of plain data as bytes (the runtime's batch operations).
pub(crate) trait PodSlice {
    fn as_bytes(&self) -> &[u8];
    fn as_mut_bytes(&mut self) -> &mut [u8];
}

impl<T: Pod> PodSlice for [T] {
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: the elements are `Pod`: contiguous and without padding.
        unsafe { std::slice::from_raw_parts(self.as_ptr().cast(), size_of_val(self)) }
    }

    fn as_mut_bytes(&mut self) -> &mut [u8] {
        // SAFETY: as above, and any bytes written are valid elements.
        unsafe { std::slice::from_raw_parts_mut(self.as_mut_ptr().cast(), size_of_val(self)) }
    }
}

macro_rules! scalars {
    ($($t:ty),*) => {$(
        // SAFETY: a scalar without padding, valid for any bits.
        unsafe impl Pod for $t {}
    )*};
}

scalars!(u8, i8, u16, i16, u32, i32, u64, i64, u128, i128, usize, isize, f32, f64);

// SAFETY: an array of `Pod` elements has no padding between them.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
