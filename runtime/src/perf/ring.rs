//! One CPU's perf ring: the event, its mapping, and the record walk.

use std::io;
use std::mem::offset_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use libbpf_sys as sys;

use super::Wakeup;
use crate::os::mmap::{page_size, Mmap};
use crate::os::perf_event;

/// The size of `struct perf_event_header`.
const HEADER: usize = 8;
/// A sample's raw data follows the header and its own u32 size.
const RAW_DATA: usize = HEADER + 4;
const RECORD_SAMPLE: u32 = sys::PERF_RECORD_SAMPLE;
const RECORD_LOST: u32 = sys::PERF_RECORD_LOST;

/// A record found in a ring, by address: the pointers stay valid until the
/// ring (or the scratch buffer) is touched again.
#[derive(Clone, Copy)]
pub(super) enum Raw {
    /// A sample's raw data.
    Sample(*const u8, usize),
    /// The kernel dropped this many samples for want of room.
    Lost(u64),
}

/// A record's header could not be trusted.
pub(super) struct Corrupt;

/// The ring of one CPU.
pub(super) struct CpuRing {
    pub(super) cpu: u32,
    /// Where the next record starts.
    tail: u64,
    /// The end of the current batch (a `data_head` seen, or less).
    limit: u64,
    /// The `data_tail` last stored.
    committed: u64,
    /// The data pages.
    data: *const u8,
    /// Size of the data area, a power of two.
    size: u64,
    /// How many bytes a batch reads at most before `data_tail` is stored.
    batch: u64,
    data_head: *const AtomicU64,
    data_tail: *const AtomicU64,
    /// Samples the kernel reported lost on this CPU.
    pub(super) lost: u64,
    /// Records of types the reader does not read (counted, skipped).
    pub(super) other: u64,
    /// The header (type, misc, size) of the last sample `next` read in
    /// place, and its size (more than the ring before the first).
    run_word: u64,
    run_len: usize,
    _mmap: Mmap,
    fd: OwnedFd,
}

// SAFETY: the pointers point into `_mmap`, owned by the ring; they are only
// used through `&mut self`, or atomically.
unsafe impl Send for CpuRing {}
// SAFETY: `&self` only reads counters and the fd.
unsafe impl Sync for CpuRing {}

impl CpuRing {
    /// Opens a BPF output event on `cpu` and maps `pages` data pages of it.
    pub(super) fn open(cpu: u32, pages: usize, wakeup: Wakeup) -> io::Result<Self> {
        let mut attr = sys::perf_event_attr {
            type_: sys::PERF_TYPE_SOFTWARE,
            size: size_of::<sys::perf_event_attr>() as u32,
            config: sys::PERF_COUNT_SW_BPF_OUTPUT as u64,
            sample_type: sys::PERF_SAMPLE_RAW as u64,
            ..Default::default()
        };
        attr.__bindgen_anon_1.sample_period = 1;
        match wakeup {
            Wakeup::Events(n) => attr.__bindgen_anon_2.wakeup_events = n.max(1),
            Wakeup::Bytes(n) => {
                attr.set_watermark(1);
                attr.__bindgen_anon_2.wakeup_watermark = n.max(1);
            }
        }
        let fd = perf_event::open(&attr, -1, cpu as i32)?;

        let page = page_size();
        let size = pages * page;
        let mmap = Mmap::new(fd.as_fd(), page + size, 0, true)?;
        let base = mmap.ptr();
        // SAFETY: the first page is the kernel's `perf_event_mmap_page`; the
        // head and tail are naturally aligned u64 fields of it.
        let (data_head, data_tail) = unsafe {
            (
                base.add(offset_of!(sys::perf_event_mmap_page, data_head))
                    .cast::<AtomicU64>(),
                base.add(offset_of!(sys::perf_event_mmap_page, data_tail))
                    .cast::<AtomicU64>(),
            )
        };
        // SAFETY: as above; the tail is ours to read, the kernel starts it at 0.
        let tail = unsafe { (*data_tail).load(Ordering::Relaxed) };
        debug_assert!(mmap.len() == page + size);
        Ok(CpuRing {
            cpu,
            tail,
            limit: tail,
            committed: tail,
            // SAFETY: the data pages follow the first page.
            data: unsafe { base.add(page) },
            size: size as u64,
            batch: (size as u64 / 4).max(page as u64),
            data_head,
            data_tail,
            lost: 0,
            other: 0,
            run_word: 0,
            // Fits no offset: the fast path stays off until a sample is seen.
            run_len: size + 1,
            _mmap: mmap,
            fd,
        })
    }

    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub(super) fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Whether the batch is done.
    #[inline(always)]
    fn at_limit(&self) -> bool {
        !before(self.tail, self.limit)
    }

    /// Ends the batch: stores `data_tail`, reads `data_head`; returns
    /// whether there is more to read.
    #[inline(never)]
    pub(super) fn refill(&mut self) -> bool {
        self.commit();
        let head = self.head();
        let available = head.wrapping_sub(self.tail);
        if available == 0 || available > self.size {
            // Empty, or a head no kernel writes (then wait for a sane one).
            self.limit = self.tail;
            return false;
        }
        self.limit = self.tail.wrapping_add(available.min(self.batch));
        true
    }

    /// Whether a record is there to read (without reading it).
    #[inline]
    pub(super) fn has_data(&mut self) -> bool {
        !self.at_limit() || self.refill()
    }

    /// Bytes written and not yet read.
    pub(super) fn pending(&self) -> u64 {
        self.head().wrapping_sub(self.tail)
    }

    #[inline]
    fn head(&self) -> u64 {
        // SAFETY: the first page is mapped for `self`'s life.
        unsafe { (*self.data_head).load(Ordering::Acquire) }
    }

    #[inline]
    pub(super) fn commit(&mut self) {
        if self.committed != self.tail {
            // SAFETY: the first page is mapped writable for `self`'s life.
            // Release: every read of the records before `tail` happens before
            // the kernel may overwrite them.
            unsafe { (*self.data_tail).store(self.tail, Ordering::Release) };
            self.committed = self.tail;
        }
    }

    /// Reads the record at the tail and moves past it; `None` when the ring
    /// is empty. Lost records are counted here; records of other types are
    /// skipped. A record that runs past the end of the ring is copied into
    /// `scratch`, and the returned pointer points there.
    #[inline]
    pub(super) fn next(&mut self, scratch: &mut Vec<u8>) -> Option<Raw> {
        loop {
            if self.at_limit() && !self.refill() {
                return None;
            }
            // A sample whose header is the previous sample's, whole inside
            // the ring: moved past by the remembered size, so that finding
            // the next record does not wait for this one's header (see
            // `run`).
            let offset = (self.tail & (self.size - 1)) as usize;
            if offset + self.run_len <= self.size as usize {
                // SAFETY: the record's first 12 bytes lie inside the data
                // pages (`run_len` is a sample's size here, at least 12).
                let (same, raw_len, record) = unsafe {
                    let record = self.data.add(offset);
                    (
                        record.cast::<u64>().read_unaligned() == self.run_word,
                        record.add(HEADER).cast::<u32>().read_unaligned() as usize,
                        record,
                    )
                };
                if same && raw_len <= self.run_len - RAW_DATA {
                    self.tail = self.tail.wrapping_add(self.run_len as u64);
                    // SAFETY: inside the record.
                    return Some(Raw::Sample(unsafe { record.add(RAW_DATA) }, raw_len));
                }
            }
            match self.read(self.tail, scratch) {
                Ok((span, raw)) => {
                    let at = self.tail;
                    self.tail = self.tail.wrapping_add(span as u64);
                    match raw {
                        Some(Raw::Lost(n)) => {
                            self.lost += n;
                            return Some(Raw::Lost(n));
                        }
                        Some(sample) => {
                            self.remember(at, span);
                            return Some(sample);
                        }
                        None => self.other += 1,
                    }
                }
                Err(Corrupt) => {
                    self.resync();
                    return None;
                }
            }
        }
    }

    /// Remembers the header of the sample at `at` (`span` bytes) for `next`'s
    /// fast path, unless it wraps around the end of the ring.
    #[inline(never)]
    fn remember(&mut self, at: u64, span: usize) {
        let offset = (at & (self.size - 1)) as usize;
        if offset + span <= self.size as usize && span >= RAW_DATA {
            // SAFETY: the header lies inside the data pages; the kernel does
            // not write there before `data_tail` passes it.
            self.run_word = unsafe { self.data.add(offset).cast::<u64>().read_unaligned() };
            self.run_len = span;
        }
    }

    /// Hands every sample to `f`; returns how many there were.
    #[inline]
    pub(super) fn drain(&mut self, scratch: &mut Vec<u8>, f: &mut impl FnMut(u32, &[u8])) -> usize {
        let mut count = 0;
        let cpu = self.cpu;
        while !self.at_limit() || self.refill() {
            let limit = self.limit;
            let mut tail = self.tail;
            let mut corrupt = false;
            while before(tail, limit) {
                let next = self.run(tail, limit, cpu, f, &mut count);
                if next != tail {
                    tail = next;
                    continue;
                }
                match self.read(tail, scratch) {
                    Ok((span, raw)) => {
                        tail = tail.wrapping_add(span as u64);
                        match raw {
                            Some(Raw::Sample(ptr, len)) => {
                                // SAFETY: `read` checked that the sample lies
                                // inside the record, which is inside the
                                // mapping (or `scratch`), unread so far.
                                f(cpu, unsafe { std::slice::from_raw_parts(ptr, len) });
                                count += 1;
                            }
                            Some(Raw::Lost(n)) => self.lost += n,
                            None => self.other += 1,
                        }
                    }
                    Err(Corrupt) => {
                        corrupt = true;
                        break;
                    }
                }
            }
            self.tail = tail;
            if corrupt {
                self.resync();
                break;
            }
        }
        count
    }

    /// Hands out the run of samples starting at `tail` that share the
    /// header of the first one (same type, same size) and lie whole inside
    /// the ring; returns the position after the run (`tail` itself when the
    /// record there does not start such a run: the caller reads it the
    /// general way).
    ///
    /// Within a run the next position does not depend on the header just
    /// loaded (only the check does, which the CPU predicts), so the CPU
    /// fetches the headers of several records at once instead of waiting for
    /// each size before it can find the next record.
    #[inline(always)]
    fn run(
        &self,
        tail: u64,
        limit: u64,
        cpu: u32,
        f: &mut impl FnMut(u32, &[u8]),
        count: &mut usize,
    ) -> u64 {
        let size = self.size as usize;
        let offset = (tail & (self.size - 1)) as usize;
        if offset + HEADER > size {
            return tail;
        }
        // SAFETY: the 8-byte header lies inside the data pages.
        let mut record = unsafe { self.data.add(offset) };
        // SAFETY: as above.
        let (kind, len) = unsafe { header(record) };
        if kind != RECORD_SAMPLE || len < RAW_DATA || len > size - offset {
            return tail;
        }
        // SAFETY: as above.
        let word = unsafe { record.cast::<u64>().read_unaligned() };
        // The records of the run up to the batch's limit (the last may end
        // past it) and that lie whole before the end of the ring.
        let to_limit = (limit.wrapping_sub(tail) as usize).div_ceil(len);
        let most = to_limit.min((size - offset) / len);
        let raw_max = len - RAW_DATA;
        let mut done = 0;
        while done < most {
            // SAFETY: record `done` of the run lies inside the data pages
            // (`offset + most * len <= size`); the header and u32 size are its
            // first 12 bytes.
            let (same, raw_len) = unsafe {
                (
                    record.cast::<u64>().read_unaligned() == word,
                    record.add(HEADER).cast::<u32>().read_unaligned() as usize,
                )
            };
            if !same || raw_len > raw_max {
                break;
            }
            // SAFETY: the raw data lies inside the record, unread so far.
            f(cpu, unsafe {
                std::slice::from_raw_parts(record.add(RAW_DATA), raw_len)
            });
            // SAFETY: at most one past the run's last record, inside or at the
            // end of the data pages.
            record = unsafe { record.add(len) };
            done += 1;
        }
        *count += done;
        tail.wrapping_add((done * len) as u64)
    }

    /// The record at `tail`: the bytes it takes, and what it holds (`None`
    /// for a type the reader skips).
    #[inline(always)]
    fn read(&self, tail: u64, scratch: &mut Vec<u8>) -> Result<(usize, Option<Raw>), Corrupt> {
        let size = self.size as usize;
        let offset = (tail & (self.size - 1)) as usize;
        // SAFETY: `offset < size`, inside the data pages.
        let mut record = unsafe { self.data.add(offset) };
        let (kind, len) = if offset + HEADER <= size {
            // SAFETY: the 8-byte header lies inside the data pages.
            unsafe { header(record) }
        } else {
            let mut bytes = [0u8; HEADER];
            self.copy_out(offset, &mut bytes);
            // SAFETY: `bytes` holds a whole header.
            unsafe { header(bytes.as_ptr()) }
        };
        if len < HEADER || len > size {
            return Err(Corrupt);
        }
        if offset + len > size {
            // The record wraps around the end of the ring: make it whole.
            if scratch.len() < len {
                scratch.resize(len, 0);
            }
            self.copy_out(offset, &mut scratch[..len]);
            record = scratch.as_ptr();
        }
        let raw = match kind {
            RECORD_SAMPLE if len >= RAW_DATA => {
                // SAFETY: the record holds at least the header and the u32.
                let raw_len = unsafe { record.add(HEADER).cast::<u32>().read_unaligned() } as usize;
                if raw_len > len - RAW_DATA {
                    return Err(Corrupt);
                }
                // SAFETY: the raw data lies inside the record.
                Some(Raw::Sample(unsafe { record.add(RAW_DATA) }, raw_len))
            }
            RECORD_LOST if len >= HEADER + 16 => {
                // SAFETY: header, u64 id, u64 lost: inside the record.
                Some(Raw::Lost(unsafe {
                    record.add(HEADER + 8).cast::<u64>().read_unaligned()
                }))
            }
            _ => None,
        };
        Ok((len, raw))
    }

    /// Copies `out.len()` bytes starting at `offset`, wrapping at the end of
    /// the ring.
    #[cold]
    fn copy_out(&self, offset: usize, out: &mut [u8]) {
        let size = self.size as usize;
        let first = out.len().min(size - offset);
        // SAFETY: both source ranges lie inside the data pages (`out.len()`
        // is at most the ring's size), and `out` is writable.
        unsafe {
            std::ptr::copy_nonoverlapping(self.data.add(offset), out.as_mut_ptr(), first);
            std::ptr::copy_nonoverlapping(
                self.data,
                out.as_mut_ptr().add(first),
                out.len() - first,
            );
        }
    }

    /// Gives up on a batch whose header made no sense: skips to the head.
    #[cold]
    fn resync(&mut self) {
        let head = self.head();
        log::error!(
            "perf ring of CPU {}: a record at position {} has an impossible header; \
             skipping to position {head}",
            self.cpu,
            self.tail
        );
        self.tail = head;
        self.limit = head;
        self.commit();
    }
}

/// Whether position `a` comes before `b` (positions wrap around).
#[inline(always)]
fn before(a: u64, b: u64) -> bool {
    (b.wrapping_sub(a) as i64) > 0
}

/// The type and size of the perf record header at `at`.
///
/// # Safety
/// `at` must be readable for 8 bytes.
#[inline(always)]
unsafe fn header(at: *const u8) -> (u32, usize) {
    // SAFETY: `struct perf_event_header { u32 type; u16 misc; u16 size; }`.
    unsafe {
        let kind = at.cast::<u32>().read_unaligned();
        let size = at.add(6).cast::<u16>().read_unaligned();
        (kind, size as usize)
    }
}
