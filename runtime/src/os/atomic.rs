//! Reading and writing memory that the kernel or a BPF program may write at
//! the same time (data sections, ring buffer records).
//!
//! Plain or volatile accesses to such memory are data races in Rust's
//! memory model. These copies use relaxed atomic loads and stores instead,
//! each as wide as the alignment allows (up to 8 bytes): for a naturally
//! aligned field of 1, 2, 4 or 8 bytes that is one access, which compiles
//! to the same move a plain access would. Wider values are copied word by
//! word, so a value that the other side changes meanwhile may be read half
//! old, half new, as with any copy of shared memory; each word is whole.

use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

/// Copies the `T` at `src` out of shared memory.
///
/// # Safety
/// `src` is valid for reads of `size_of::<T>()` bytes, aligned for `T`, and
/// every access to it by this process is atomic (or a read).
#[inline(always)]
pub(crate) unsafe fn load<T: crate::Pod>(src: *const T) -> T {
    let mut value = T::new_zeroed();
    // SAFETY: the caller's contract; `value` is a `T`, valid for any bytes.
    unsafe {
        copy_in_units(
            src.cast(),
            value.as_mut_bytes().as_mut_ptr(),
            size_of::<T>(),
            unit_for::<T>(),
        )
    };
    value
}

/// Copies out the `T` at `src`, which is 1, 2, 4 or 8 bytes long and
/// aligned to its size (though `T` itself may be less aligned): one load.
///
/// # Safety
/// As for [`load`], with `src` aligned to `size_of::<T>()`.
#[inline(always)]
pub(crate) unsafe fn load_unaligned_word<T: crate::Pod>(src: *const u8) -> T {
    let mut value = T::new_zeroed();
    let size = size_of::<T>();
    // SAFETY: the caller's contract; one access of `size` bytes.
    unsafe { copy_in_units(src, value.as_mut_bytes().as_mut_ptr(), size, size) };
    value
}

/// Writes `value` into the `T` at `dst` in shared memory.
///
/// # Safety
/// `dst` is valid for writes of `size_of::<T>()` bytes, aligned for `T`,
/// and every access to it by this process is atomic.
#[inline(always)]
pub(crate) unsafe fn store<T: crate::Pod>(dst: *mut T, value: &T) {
    let bytes = value.as_bytes();
    let unit = unit_for::<T>();
    let mut i = 0;
    while i < bytes.len() {
        // SAFETY: `dst + i` is inside the `T` and aligned to `unit`, which
        // divides both `align_of::<T>()` and the size.
        unsafe { store_unit(dst.cast::<u8>().add(i), &bytes[i..i + unit]) };
        i += unit;
    }
}

/// Stores `bytes` (1, 2, 4 or 8 of them) at `at` with one atomic store.
///
/// # Safety
/// `at` is valid for writes of `bytes.len()` bytes, aligned to that many,
/// and every access to them by this process is atomic.
#[inline(always)]
unsafe fn store_unit(at: *mut u8, bytes: &[u8]) {
    // SAFETY: the caller's contract.
    unsafe {
        match bytes.len() {
            8 => AtomicU64::from_ptr(at.cast()).store(u64::from_ne_bytes(word(bytes)), Relaxed),
            4 => AtomicU32::from_ptr(at.cast()).store(u32::from_ne_bytes(word(bytes)), Relaxed),
            2 => AtomicU16::from_ptr(at.cast()).store(u16::from_ne_bytes(word(bytes)), Relaxed),
            _ => AtomicU8::from_ptr(at).store(bytes[0], Relaxed),
        }
    }
}

/// Copies `dst.len()` bytes out of shared memory at `src`, whatever its
/// alignment: each access as wide as the address and the bytes left allow.
///
/// # Safety
/// `src` is valid for reads of `dst.len()` bytes, and every access to them by
/// this process is atomic (or a read).
#[inline]
pub(crate) unsafe fn load_bytes(src: *const u8, dst: &mut [u8]) {
    let n = dst.len();
    if n <= 8 && n.is_power_of_two() && (src as usize).is_multiple_of(n) {
        // One aligned word (a record's first u64, say): one load.
        // SAFETY: the caller's contract; `src` is aligned to `n`.
        unsafe { copy_in_units(src, dst.as_mut_ptr(), n, n) };
        return;
    }
    let mut i = 0;
    while i < n {
        let at = src.wrapping_add(i);
        let left = n - i;
        let unit = [8, 4, 2, 1]
            .into_iter()
            .find(|&u| (at as usize).is_multiple_of(u) && left >= u)
            .unwrap_or(1);
        // SAFETY: `at` is inside the source and aligned to `unit`; `dst` has
        // `unit` bytes left at `i`.
        unsafe { copy_in_units(at, dst.as_mut_ptr().add(i), unit, unit) };
        i += unit;
    }
}

/// Copies `src` into shared memory at `dst`, whatever its alignment: each
/// store as wide as the address and the bytes left allow.
///
/// # Safety
/// `dst` is valid for writes of `src.len()` bytes, and every access to them
/// by this process is atomic.
#[inline]
pub(crate) unsafe fn store_bytes(dst: *mut u8, src: &[u8]) {
    let mut i = 0;
    while i < src.len() {
        let at = dst.wrapping_add(i);
        let left = src.len() - i;
        let unit = [8, 4, 2, 1]
            .into_iter()
            .find(|&u| (at as usize).is_multiple_of(u) && left >= u)
            .unwrap_or(1);
        // SAFETY: `at` is inside the destination and aligned to `unit`.
        unsafe { store_unit(at, &src[i..i + unit]) };
        i += unit;
    }
}

/// The widest access that fits `T`'s alignment and divides its size.
#[inline(always)]
const fn unit_for<T>() -> usize {
    let align = align_of::<T>();
    let mut unit = if align >= 8 { 8 } else { align };
    while unit > 1 && !size_of::<T>().is_multiple_of(unit) {
        unit /= 2;
    }
    unit
}

/// Copies `len` bytes (a multiple of `unit`) from `src` to `dst`, `unit`
/// bytes at a time, loading each with one atomic access.
///
/// # Safety
/// `src` is valid for reads of `len` bytes and aligned to `unit`; `dst` is
/// valid for writes of `len` bytes and does not overlap `src`.
#[inline(always)]
unsafe fn copy_in_units(src: *const u8, dst: *mut u8, len: usize, unit: usize) {
    let mut i = 0;
    while i < len {
        // SAFETY: the caller's contract; atomics need `*mut`, but are only
        // loaded from here (loads of at most 8 bytes are plain moves, fine on
        // read-only mappings).
        unsafe {
            let at = src.add(i).cast_mut();
            let out = dst.add(i);
            match unit {
                8 => write(
                    out,
                    &AtomicU64::from_ptr(at.cast()).load(Relaxed).to_ne_bytes(),
                ),
                4 => write(
                    out,
                    &AtomicU32::from_ptr(at.cast()).load(Relaxed).to_ne_bytes(),
                ),
                2 => write(
                    out,
                    &AtomicU16::from_ptr(at.cast()).load(Relaxed).to_ne_bytes(),
                ),
                _ => *out = AtomicU8::from_ptr(at).load(Relaxed),
            }
        }
        i += unit;
    }
}

/// Writes `bytes` at `out`.
///
/// # Safety
/// `out` is valid for writes of `bytes.len()` bytes.
#[inline(always)]
unsafe fn write(out: *mut u8, bytes: &[u8]) {
    // SAFETY: the caller's contract; `bytes` is a local array.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len()) }
}

/// The first `N` bytes of `bytes` as an array (`bytes` has exactly `N`).
#[inline(always)]
fn word<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_alignment_and_size() {
        assert_eq!(unit_for::<u8>(), 1);
        assert_eq!(unit_for::<u32>(), 4);
        assert_eq!(unit_for::<u64>(), 8);
        assert_eq!(unit_for::<[u32; 3]>(), 4);
        assert_eq!(unit_for::<[u64; 2]>(), 8);
        assert_eq!(unit_for::<[u8; 16]>(), 1);
        assert_eq!(unit_for::<u128>(), 8);
    }

    #[test]
    fn values_round_trip() {
        let mut cell = 0u64;
        // SAFETY: a local, aligned u64.
        unsafe { store(&mut cell, &0x0102_0304_0506_0708) };
        // SAFETY: as above.
        assert_eq!(unsafe { load(&cell) }, 0x0102_0304_0506_0708);
        let mut arr = [0u32; 3];
        // SAFETY: a local array.
        unsafe { store(&mut arr, &[1, 2, 3]) };
        // SAFETY: as above.
        assert_eq!(unsafe { load(&arr) }, [1, 2, 3]);
    }

    #[test]
    fn bytes_stored_at_any_offset() {
        let src: Vec<u8> = (0..40).collect();
        for start in 0..8 {
            for len in 0..=(40 - start) {
                let mut dst = vec![0xffu8; 48];
                // SAFETY: inside `dst`.
                unsafe { store_bytes(dst.as_mut_ptr().add(start), &src[..len]) };
                assert_eq!(&dst[start..start + len], &src[..len]);
                assert!(dst[..start]
                    .iter()
                    .chain(&dst[start + len..])
                    .all(|&b| b == 0xff));
            }
        }
    }

    #[test]
    fn bytes_at_any_offset() {
        let src: Vec<u8> = (0..40).collect();
        for start in 0..8 {
            for len in 0..=(40 - start) {
                let mut out = vec![0xffu8; len];
                // SAFETY: inside `src`.
                unsafe { load_bytes(src.as_ptr().add(start), &mut out) };
                assert_eq!(out, &src[start..start + len]);
            }
        }
    }
}
