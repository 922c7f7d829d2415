//! A record lent by a ring buffer reader, read where it lies.
//!
//! The reader makes sure no other reader in this process moves the ring's
//! consumer position while a record is lent, so the kernel does not reuse
//! its space. Another process holding the same map (through a pin, say) may
//! still move it, and the kernel would then write over the record: that is
//! why a [`Record`] is not a `&[u8]`. Its bytes are read with atomic loads,
//! the way memory shared with the kernel must be, and copied out as the
//! caller asks: reading a record's first word costs one load, as it would
//! through a slice.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU8;

use crate::os::atomic;

/// A record of a ring buffer, borrowed from the reader that lent it.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    ptr: NonNull<u8>,
    len: usize,
    _ring: PhantomData<&'a [AtomicU8]>,
}

// SAFETY: a record is a read-only view of shared memory, read atomically;
// sending or sharing it between threads is like sharing a `&[AtomicU8]`.
unsafe impl Send for Record<'_> {}
// SAFETY: as above.
unsafe impl Sync for Record<'_> {}

impl<'a> Record<'a> {
    /// A record of `len` bytes at `ptr`.
    ///
    /// # Safety
    /// `ptr` is readable for `len` bytes for `'a`, and every access this
    /// process makes to those bytes meanwhile is a read.
    pub(crate) unsafe fn new(ptr: *const u8, len: usize) -> Self {
        Record {
            // SAFETY: records lie inside a mapping, never at address 0.
            ptr: unsafe { NonNull::new_unchecked(ptr.cast_mut()) },
            len,
            _ring: PhantomData,
        }
    }

    /// The record's length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the record is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The record as a `T`, copied out; `None` unless the record is exactly
    /// `size_of::<T>()` bytes.
    #[inline]
    pub fn read<T: crate::Pod>(&self) -> Option<T> {
        (self.len == size_of::<T>())
            .then(|| self.read_at(0))
            .flatten()
    }

    /// The record's first `size_of::<T>()` bytes as a `T` (a fixed header
    /// before a variable tail, say); `None` when the record is shorter.
    #[inline]
    pub fn read_prefix<T: crate::Pod>(&self) -> Option<T> {
        self.read_at(0)
    }

    /// The `size_of::<T>()` bytes at `offset` as a `T`; `None` when they do
    /// not lie inside the record.
    #[inline]
    pub fn read_at<T: crate::Pod>(&self, offset: usize) -> Option<T> {
        let end = offset.checked_add(size_of::<T>())?;
        if end > self.len {
            return None;
        }
        // SAFETY: `offset` is inside the record.
        let at = unsafe { self.ptr.as_ptr().add(offset) };
        let size = size_of::<T>();
        if size.is_power_of_two() && size <= 8 && (at as usize).is_multiple_of(size) {
            // One naturally aligned word (a record's first u64, say): one
            // load, chosen at compile time.
            // SAFETY: `at..end` lies inside the record and is aligned for a
            // word of `T`'s size; `T` is valid for any bytes.
            return Some(unsafe { atomic::load_unaligned_word::<T>(at) });
        }
        let mut value = T::new_zeroed();
        // SAFETY: `offset..end` lies inside the record (see `new`).
        unsafe { atomic::load_bytes(self.ptr.as_ptr().add(offset), value.as_mut_bytes()) };
        Some(value)
    }

    /// The bytes of `range`, as a record of their own; `None` when the range
    /// does not lie inside the record. With [`Record::read_prefix`] this
    /// reads a header and then its variable tail.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Option<Record<'a>> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.checked_add(1)?,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.checked_add(1)?,
            Bound::Excluded(&e) => e,
            Bound::Unbounded => self.len,
        };
        if start > end || end > self.len {
            return None;
        }
        // SAFETY: inside this record, for the same lifetime.
        Some(unsafe { Record::new(self.ptr.as_ptr().add(start), end - start) })
    }

    /// Copies the record into the start of `out`; returns how many bytes it
    /// copied (the shorter of the two lengths).
    #[inline]
    pub fn copy_to(&self, out: &mut [u8]) -> usize {
        let n = self.len.min(out.len());
        // SAFETY: the first `n` bytes lie inside the record.
        unsafe { atomic::load_bytes(self.ptr.as_ptr(), &mut out[..n]) };
        n
    }

    /// The record's bytes, copied into a vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.len];
        self.copy_to(&mut out);
        out
    }

    /// The record's bytes in place, without copying.
    ///
    /// # Safety
    /// Nothing may move the ring's consumer position past this record while
    /// the slice lives: no reader of the ring in another process (readers in
    /// this process are ruled out already). A ring that only this process
    /// can reach (created by an object it loaded, never pinned, its
    /// descriptor never passed on) meets this.
    #[inline]
    pub unsafe fn as_bytes(&self) -> &'a [u8] {
        // SAFETY: the caller's promise keeps the bytes unchanged for `'a`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record").field("len", &self.len).finish()
    }
}

impl PartialEq<[u8]> for Record<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.len == other.len() && self.to_vec() == other
    }
}
