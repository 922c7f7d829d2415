//! Reading a ring buffer (`BPF_MAP_TYPE_RINGBUF`) straight from its memory.
//!
//! A [`RingBufReader`] maps the ring the way the kernel lays it out: one
//! page holding the consumer position (the only thing user space writes),
//! then, read-only, one page holding the producer position followed by the
//! data pages mapped twice in a row, so that a record running past the end
//! of the ring is still contiguous in memory. Records are handed out as
//! borrowed `&[u8]` (or a typed `&T`) pointing into that memory: nothing is
//! copied, nothing is allocated, and no system call is made while records
//! are there to read.
//!
//! Unlike libbpf's `ring_buffer__consume`, which calls a callback and
//! stores the consumer position after every record, the reader reads the
//! producer position once per batch, walks the records up to it, and stores
//! the consumer position once when the batch is done (or when a quarter of
//! the ring has been read, so that producers get space back during a long
//! drain).
//!
//! ```no_run
//! # ebpf_skeleton::ebpf_skeleton!(
//! #     "../../../examples/execsnoop/bpf/execsnoop.bpf.o",
//! #     types = [event]
//! # );
//! # use execsnoop::types::Event;
//! # fn main() -> ebpf_skeleton::Result<()> {
//! # let objs = execsnoop::Objects::load()?;
//! let mut events = objs.maps.events.reader()?; // a `RingBufReader`
//! loop {
//!     events.poll(None)?;                    // sleeps until the kernel wakes us
//!     while let Some(ev) = events.next_as::<Event>()? {
//!         let comm = ev.comm.split(|&b| b == 0).next().unwrap_or_default();
//!         println!("{} ran {}", ev.pid, String::from_utf8_lossy(comm));
//!     }
//! }
//! # }
//! ```
//!
//! One reader per ring: two readers of the same ring (in one process or
//! two) would each move the one consumer position the kernel keeps.

#[cfg(all(test, feature = "tokio"))]
mod async_tests;
mod poller;
mod record;
#[cfg(feature = "tokio")]
pub(crate) mod stream;
mod user;

use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{fence, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use crate::claim::{Claim, Part};
use crate::error::{Error, Result};
use crate::map::{duplicate_fd, Map, MapType};
use crate::os::mmap::{page_size, Mmap};
use crate::os::{fd_from_field, poll};

pub use poller::RingBufPoller;
pub use record::Record;
#[cfg(feature = "tokio")]
pub use stream::{AsyncRingBufPoller, AsyncRingBufReader};
pub use user::{UserRingBufWriter, UserSample};

/// Set in a record's length word while the producer still writes it.
const BUSY_BIT: u32 = 1 << 31;
/// Set in a record's length word when the producer threw the record away.
const DISCARD_BIT: u32 = 1 << 30;
/// The header before each record: the length word and 4 bytes of padding.
const HEADER: usize = 8;
/// A header word no record has (busy, discarded, and longer than any ring):
/// the run before the first record.
const NO_RUN: u32 = u32::MAX;

/// A reader of one ring buffer map, over the ring's own memory.
///
/// Built from a [`Map`] of kind [`MapType::RINGBUF`]; it keeps its own file
/// descriptor of the map, so it may outlive the `Map` and the object. The
/// ring is unmapped and the descriptor closed when the reader is dropped;
/// records read by then are given back to the kernel, the rest stay in the
/// ring.
pub struct RingBufReader {
    /// Where the next record starts (records before it were handed out).
    pos: usize,
    /// The end of the current batch: records before it were there when the
    /// producer position was last read. `pos` may pass it by one record.
    limit: usize,
    /// The consumer position last stored in the kernel's page.
    committed: usize,
    /// The first data page (mapped twice in a row).
    data: *const u8,
    /// Data size - 1 (the size is a power of two).
    mask: usize,
    /// The longest record a ring of this size can hold, as a length word.
    max_len: u32,
    /// How many bytes a batch reads at most before it stores the consumer
    /// position.
    batch: usize,
    /// The header word of the last record `peek` found (kept, committed).
    run_word: u32,
    /// The bytes that record takes in the ring.
    run_span: usize,
    /// The kernel's consumer position, in the writable page.
    consumer_pos: *const AtomicUsize,
    /// The kernel's producer position, in the read-only page.
    producer_pos: *const AtomicUsize,
    /// The writable page holding the consumer position.
    _consumer: Mmap,
    /// The producer page and the data pages, mapped twice.
    _producer: Mmap,
    /// This process's one claim on the ring's consumer position.
    _claim: Claim,
    fd: OwnedFd,
    name: String,
}

// SAFETY: the raw pointers point into the mappings this value owns; they are
// only dereferenced through `&mut self` (or, for `producer_pos` and the
// positions, atomically), so moving the reader to another thread is sound.
unsafe impl Send for RingBufReader {}
// SAFETY: `&self` methods only read the name, the fd and the producer
// position (atomically).
unsafe impl Sync for RingBufReader {}

impl RingBufReader {
    /// Maps the ring buffer `map` for reading.
    ///
    /// Fails with [`Error::MapKind`] when `map` is not a ring buffer, and
    /// with [`Error::Busy`] while another reader of the same ring lives in
    /// this process.
    pub fn new(map: &Map) -> Result<Self> {
        let name = map.name().to_owned();
        if map.map_type() != MapType::RINGBUF {
            return Err(Error::MapKind {
                map: name,
                expected: &[MapType::RINGBUF],
                actual: map.map_type(),
            });
        }
        let claim = Claim::take(map.info().id, Part::Consumer).ok_or_else(|| Error::Busy {
            map: name.clone(),
            what: "a ring buffer reader".to_owned(),
        })?;
        let fd = duplicate_fd(map.as_fd(), &name)?;
        let size = map.info().max_entries as usize;
        let page = page_size();
        if !size.is_power_of_two() || !size.is_multiple_of(page) || size > u32::MAX as usize / 2 {
            return Err(Error::ReaderOption {
                map: name,
                problem: format!(
                    "its size ({size} bytes) is not a power of two multiple of the page size ({page})"
                ),
            });
        }
        let map_err = |op: &'static str| {
            let map = name.clone();
            move |source| Error::Map { op, map, source }
        };
        let consumer =
            Mmap::new(fd.as_fd(), page, 0, true).map_err(map_err("map the consumer page"))?;
        let producer = Mmap::new(fd.as_fd(), page + 2 * size, page, false)
            .map_err(map_err("map the producer page and the data"))?;
        // SAFETY: the data starts one page into the producer mapping, which is
        // `page + 2 * size` bytes long.
        let data = unsafe { producer.ptr().add(page) };
        let consumer_pos = consumer.ptr().cast::<AtomicUsize>();
        let producer_pos = producer.ptr().cast::<AtomicUsize>();
        // SAFETY: both pages are mapped and page-aligned; the kernel keeps an
        // `unsigned long` at the start of each.
        let start = unsafe { (*consumer_pos).load(Ordering::Acquire) };
        Ok(RingBufReader {
            pos: start,
            limit: start,
            committed: start,
            data,
            mask: size - 1,
            max_len: (size - HEADER) as u32,
            batch: (size / 4).max(page),
            run_word: NO_RUN,
            run_span: 0,
            consumer_pos,
            producer_pos,
            _consumer: consumer,
            _producer: producer,
            _claim: claim,
            fd,
            name: map.name().to_owned(),
        })
    }

    /// The name of the map read.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The size of the ring's data area in bytes.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The bytes (records and their 8-byte headers) written to the ring and
    /// not yet read.
    pub fn pending(&self) -> usize {
        self.producer().wrapping_sub(self.pos)
    }

    /// The next record, or `None` when there is none right now.
    ///
    /// The record lies in the ring; it is given back to the kernel once the
    /// borrow ends and the batch is done. Discarded records are skipped.
    // A lending read: the record borrows the reader, which `Iterator` cannot express.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<Record<'_>> {
        let (ptr, len) = self.next_raw()?;
        // SAFETY: `next_raw` returned a committed record inside the mapping,
        // which lives as long as `self`; this process only reads it.
        Some(unsafe { Record::new(ptr, len) })
    }

    /// The next record copied into a `T`, or `None` when there is none
    /// right now.
    ///
    /// A record whose size is not `size_of::<T>()` is not consumed: the
    /// error ([`Error::RecordSize`]) says so, and [`RingBufReader::next`]
    /// still returns it (to read it another way, or skip it). For a record
    /// made of a fixed header and a variable tail, read the header with
    /// [`Record::read_prefix`].
    #[inline]
    pub fn next_as<T: crate::Pod>(&mut self) -> Result<Option<T>> {
        let Some(header) = self.peek() else {
            return Ok(None);
        };
        let len = self.run_word as usize;
        if len != size_of::<T>() {
            return Err(self.size_error::<T>(len));
        }
        self.pos = self.pos.wrapping_add(self.run_span);
        // SAFETY: as in `next`: the record follows its header.
        let record = unsafe { Record::new(header.add(HEADER), len) };
        Ok(record.read())
    }

    /// Hands every record there is now to `f`, then gives the space back to
    /// the kernel; returns how many records there were.
    ///
    /// Records the producer writes meanwhile are read too: the reader looks
    /// at the producer position again after each batch until it has not
    /// moved.
    #[inline]
    pub fn drain(&mut self, mut f: impl FnMut(Record<'_>)) -> usize {
        let mut count = 0;
        while self.refill() {
            let (data, mask, max_len, limit) = (self.data, self.mask, self.max_len, self.limit);
            let mut pos = self.pos;
            let mut stalled = None;
            while before(pos, limit) {
                // SAFETY: `pos & mask` is inside the first copy of the data.
                let header = unsafe { data.add(pos & mask) };
                let word = load_len(header);
                let len = word & !DISCARD_BIT;
                if len > max_len {
                    // Busy (still being written), or not a record at all.
                    stalled = Some(word);
                    break;
                }
                let span = record_span(len);
                if word & DISCARD_BIT != 0 {
                    pos = pos.wrapping_add(span);
                    continue;
                }
                // A run of records with this very header word. Within it the
                // next position does not depend on the word just loaded (only
                // the check does, which the CPU predicts), so the CPU fetches
                // the headers of several records at once instead of waiting
                // for each length before it can find the next record.
                loop {
                    // SAFETY: a committed record of `len <= max_len` bytes
                    // right after its header; the double mapping makes it
                    // contiguous even across the end of the ring.
                    let record = unsafe { data.add((pos & mask) + HEADER) };
                    // SAFETY: as above; this process only reads the record.
                    f(unsafe { Record::new(record, len as usize) });
                    count += 1;
                    pos = pos.wrapping_add(span);
                    // SAFETY: as above.
                    if !before(pos, limit) || load_len(unsafe { data.add(pos & mask) }) != word {
                        break;
                    }
                }
            }
            self.pos = pos;
            if let Some(word) = stalled {
                // The word that stopped the walk, not a new look at the
                // header, which the producer may have committed by now.
                self.stall(word);
                break;
            }
        }
        count
    }

    /// Waits until a record can be read or `timeout` passes (`None` waits as
    /// long as it takes); returns whether one can.
    ///
    /// Returns at once, without a system call, when a record is already
    /// there. Otherwise the consumer position is stored first, so that the
    /// kernel wakes the reader for the next record.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<bool> {
        poll::poll_until(self, timeout, Self::has_next, |reader, left| {
            poll::poll_readable(reader.fd.as_fd(), left).map_err(|source| Error::Map {
                op: "poll",
                map: reader.name.clone(),
                source,
            })
        })
    }

    /// Whether [`RingBufReader::next`] would return a record now. Skips
    /// discarded records; when there is none, stores the consumer position
    /// so that the kernel's next record wakes pollers.
    #[inline]
    pub fn has_next(&mut self) -> bool {
        self.peek().is_some()
    }

    /// Positions on the next committed, kept record without consuming it:
    /// its header's address. Its header word is then `run_word`.
    ///
    /// A record whose header word is the previous record's (the usual case:
    /// one program writing one type) is recognized by one comparison, and
    /// `next_raw` moves past it by the remembered `run_span`: the position
    /// of the record after it does not wait for its header to be loaded,
    /// which lets the CPU work on several records at once.
    #[inline]
    fn peek(&mut self) -> Option<*const u8> {
        loop {
            if !before(self.pos, self.limit) && !self.refill() {
                return None;
            }
            // SAFETY: `pos & mask` is inside the first copy of the data.
            let header = unsafe { self.data.add(self.pos & self.mask) };
            let word = load_len(header);
            if word == self.run_word {
                return Some(header);
            }
            match self.new_run(word) {
                Step::Kept => return Some(header),
                Step::Skipped => continue,
                Step::Stalled => return None,
            }
        }
    }

    /// A header word unlike the previous record's: a kept record starts a
    /// new run; a discarded one is skipped; a busy (or impossible) one stops
    /// the batch.
    #[inline(never)]
    fn new_run(&mut self, word: u32) -> Step {
        let len = word & !DISCARD_BIT;
        if len > self.max_len {
            self.stall(word);
            return Step::Stalled;
        }
        if word & DISCARD_BIT != 0 {
            self.pos = self.pos.wrapping_add(record_span(len));
            return Step::Skipped;
        }
        self.run_word = word;
        self.run_span = record_span(len);
        Step::Kept
    }

    /// Consumes the next record: its data's address and length.
    #[inline]
    fn next_raw(&mut self) -> Option<(*const u8, usize)> {
        let header = self.peek()?;
        self.pos = self.pos.wrapping_add(self.run_span);
        // SAFETY: the data follows the 8-byte header inside the mapping.
        Some((unsafe { header.add(HEADER) }, self.run_word as usize))
    }

    /// Ends the current batch: stores the consumer position and reads the
    /// producer position again. Returns whether there are records to read.
    #[inline(never)]
    fn refill(&mut self) -> bool {
        self.commit();
        let mut producer = self.producer();
        if producer == self.pos {
            // About to report an empty ring, after which the caller may
            // sleep: the store of the consumer position above must be seen
            // before the producer position is read again. A producer that
            // commits in between then either finds the consumer caught up
            // (and wakes it) or has moved the producer position we read.
            fence(Ordering::SeqCst);
            producer = self.producer();
            if producer == self.pos {
                self.limit = self.pos;
                return false;
            }
        }
        let available = producer.wrapping_sub(self.pos);
        self.limit = self.pos.wrapping_add(available.min(self.batch));
        true
    }

    /// Stops the batch at a record that cannot be read yet: one still being
    /// written (the next read looks again), or a length word no kernel
    /// writes, which is logged.
    #[cold]
    fn stall(&mut self, word: u32) {
        self.limit = self.pos;
        self.commit();
        if word & BUSY_BIT == 0 {
            log::error!(
                "ring buffer `{}`: a record at position {} claims {} bytes, more than the ring holds; \
                 reading stops there",
                self.name,
                self.pos,
                word & !DISCARD_BIT
            );
        }
    }

    /// Stores the consumer position if it moved.
    #[inline]
    fn commit(&mut self) {
        if self.committed != self.pos {
            // SAFETY: the consumer page is mapped writable for `self`'s life.
            unsafe { (*self.consumer_pos).store(self.pos, Ordering::Release) };
            self.committed = self.pos;
        }
    }

    #[inline]
    fn producer(&self) -> usize {
        // SAFETY: the producer page is mapped for `self`'s life.
        unsafe { (*self.producer_pos).load(Ordering::Acquire) }
    }

    #[cold]
    fn size_error<T>(&self, actual: usize) -> Error {
        Error::RecordSize {
            map: self.name.clone(),
            type_name: std::any::type_name::<T>(),
            expected: size_of::<T>(),
            actual,
        }
    }
}

/// The length word of the header at `header`, read with acquire ordering so
/// that the record's bytes are read after it.
#[inline(always)]
fn load_len(header: *const u8) -> u32 {
    // SAFETY: headers are 8-byte aligned inside the mapping; the kernel
    // writes the word atomically (xchg) when it commits the record.
    unsafe { (*header.cast::<AtomicU32>()).load(Ordering::Acquire) }
}

/// What `RingBufReader::new_run` made of a header word.
enum Step {
    /// A kept record, now the current run's.
    Kept,
    /// A discarded record, moved past.
    Skipped,
    /// A busy or impossible record: the batch stops there.
    Stalled,
}

/// Whether position `a` comes before `b` (positions wrap around).
#[inline(always)]
fn before(a: usize, b: usize) -> bool {
    (b.wrapping_sub(a) as isize) > 0
}

/// The bytes a record of `len` bytes takes in the ring: its header and its
/// data, rounded up to 8.
#[inline(always)]
fn record_span(len: u32) -> usize {
    (len as usize + HEADER + 7) & !7
}

impl crate::map::RingBuf {
    /// A reader of this ring buffer; see [`RingBufReader::new`].
    pub fn reader(&self) -> Result<RingBufReader> {
        RingBufReader::new(self.map())
    }
}

fd_from_field!(RingBufReader => fd);

impl Drop for RingBufReader {
    fn drop(&mut self) {
        // Give back what was read; the mappings and the fd go with the fields.
        self.commit();
    }
}

impl fmt::Debug for RingBufReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingBufReader")
            .field("name", &self.name)
            .field("capacity", &self.capacity())
            .field("position", &self.pos)
            .field("pending", &self.pending())
            .finish()
    }
}
