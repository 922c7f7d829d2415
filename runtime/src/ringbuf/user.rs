//! Writing a user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`, Linux 6.1):
//! user space produces samples, a program consumes them with
//! `bpf_user_ringbuf_drain`, in order.
//!
//! The layout is a kernel ring buffer's with the roles swapped: the page
//! holding the consumer position is mapped read-only (the kernel moves it),
//! the producer position and the data pages (mapped twice in a row) are
//! writable. A sample is reserved by writing its header with the busy bit
//! and moving the producer position past it; the kernel stops at a busy
//! header, so it never reads a sample being written; submitting clears the
//! bit (discarding sets the discard bit instead).
//!
//! Other processes holding the map (through a pin, say) can write the same
//! memory, so a reserved sample is written with atomic stores, never lent
//! as a `&mut [u8]`; in this process one writer per ring is all there is.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use crate::claim::{Claim, Part};
use crate::error::{Error, Result};
use crate::map::{duplicate_fd, Map, MapType};
use crate::os::atomic;
use crate::os::epoll::Epoll;
use crate::os::fd_from_field;
use crate::os::mmap::{page_size, Mmap};
use crate::os::poll::Deadline;
use crate::Pod;

/// Set in a sample's length word while user space still writes it.
const BUSY_BIT: u32 = 1 << 31;
/// Set in a sample's length word when user space threw it away.
const DISCARD_BIT: u32 = 1 << 30;
/// The header before each sample: the length word and 4 bytes of padding.
const HEADER: usize = 8;
/// The longest sample the kernel hands a program (a dynptr's size limit).
const MAX_SAMPLE: usize = (1 << 24) - 1;

/// The one writer of a user ring buffer in this process.
///
/// Built from a [`Map`] of kind [`MapType::USER_RINGBUF`] (or with
/// [`UserRingBuf::writer`](crate::UserRingBuf::writer)); it keeps its own
/// descriptor of the map, so it may outlive the `Map` and the object.
///
/// ```no_run
/// # fn example(ring: &ebpf_skeleton::UserRingBuf) -> ebpf_skeleton::Result<()> {
/// let mut writer = ring.writer()?;
/// // One call: reserve, copy, submit (false: no room until a program drains).
/// let sent: bool = writer.write(b"hello")?;
/// // Or in steps, writing the sample where it lies:
/// if let Some(mut sample) = writer.reserve(16)? {
///     sample.write_at(0, &1u64)?;
///     sample.write_at(8, &2u64)?;
///     sample.submit();
/// }
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
pub struct UserRingBufWriter {
    /// The first data page (mapped twice in a row).
    data: *mut u8,
    /// Data size - 1 (the size is a power of two).
    mask: usize,
    /// The kernel's consumer position, in the read-only page.
    consumer_pos: *const AtomicUsize,
    /// The producer position, in the writable page.
    producer_pos: *const AtomicUsize,
    /// The read-only page holding the consumer position.
    _consumer: Mmap,
    /// The producer page and the data pages, mapped twice.
    _producer: Mmap,
    /// Woken when a program drains samples.
    epoll: Epoll,
    /// This process's one claim on the ring's producer position.
    _claim: Claim,
    fd: OwnedFd,
    name: String,
}

// SAFETY: the raw pointers point into the mappings this value owns; the
// positions are only accessed atomically, and the data only through `&mut
// self` (samples borrow the writer mutably), with atomic stores.
unsafe impl Send for UserRingBufWriter {}
// SAFETY: `&self` methods only read the name, the descriptor and the
// positions (atomically).
unsafe impl Sync for UserRingBufWriter {}

impl UserRingBufWriter {
    /// Maps the user ring buffer `map` for writing.
    ///
    /// Fails with [`Error::MapKind`] when `map` is not a user ring buffer,
    /// and with [`Error::Busy`] while another writer of the same ring lives
    /// in this process.
    pub fn new(map: &Map) -> Result<Self> {
        let name = map.name().to_owned();
        if map.map_type() != MapType::USER_RINGBUF {
            return Err(Error::MapKind {
                map: name,
                expected: &[MapType::USER_RINGBUF],
                actual: map.map_type(),
            });
        }
        let claim = Claim::take(map.info().id, Part::Producer).ok_or_else(|| Error::Busy {
            map: name.clone(),
            what: "a user ring buffer writer".to_owned(),
        })?;
        let fd = duplicate_fd(map.as_fd(), &name)?;
        let size = map.info().max_entries as usize;
        let page = page_size();
        let map_err = |op: &'static str| {
            let map = name.clone();
            move |source| Error::Map { op, map, source }
        };
        let consumer =
            Mmap::new(fd.as_fd(), page, 0, false).map_err(map_err("map the consumer page"))?;
        let producer = Mmap::new(fd.as_fd(), page + 2 * size, page, true)
            .map_err(map_err("map the producer page and the data"))?;
        let mut epoll = Epoll::new().map_err(map_err("create an epoll instance"))?;
        epoll
            .add_writable_edges(fd.as_fd(), 0)
            .map_err(map_err("watch the ring for room"))?;
        Ok(UserRingBufWriter {
            // SAFETY: the data starts one page into the producer mapping,
            // which is `page + 2 * size` bytes long.
            data: unsafe { producer.ptr().add(page) },
            mask: size - 1,
            consumer_pos: consumer.ptr().cast::<AtomicUsize>(),
            producer_pos: producer.ptr().cast::<AtomicUsize>(),
            _consumer: consumer,
            _producer: producer,
            epoll,
            _claim: claim,
            fd,
            name,
        })
    }

    /// The name of the map written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The size of the ring's data area in bytes.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The bytes free for samples now (each takes its length plus an
    /// 8-byte header, rounded up to 8).
    pub fn free(&self) -> usize {
        self.capacity()
            .saturating_sub(self.producer().wrapping_sub(self.consumer()))
    }

    /// Reserves a sample of `len` bytes (zeroes until written); `None`
    /// while the ring has no room for it. Fails when no ring of this size
    /// could ever hold it (or it is longer than the kernel hands a program,
    /// 16 MiB - 1).
    pub fn reserve(&mut self, len: usize) -> Result<Option<UserSample<'_>>> {
        let span = self.span(len)?;
        let (producer, consumer) = (self.producer(), self.consumer());
        // Positions another process has broken leave no room at all.
        if self
            .capacity()
            .saturating_sub(producer.wrapping_sub(consumer))
            < span
        {
            return Ok(None);
        }
        let at = producer & self.mask;
        // SAFETY: `at + span` lies inside the doubly mapped data, writable,
        // free (the consumer has passed it) and 8-byte aligned.
        let header = unsafe { self.data.add(at) };
        let word = len as u32 | BUSY_BIT;
        // SAFETY: the header is an aligned u32 inside the mapping; this
        // process touches the ring only atomically.
        unsafe { (*header.cast::<AtomicU32>()).store(word, Ordering::Relaxed) };
        // SAFETY: as above, the padding word after it.
        unsafe { (*header.add(4).cast::<AtomicU32>()).store(0, Ordering::Relaxed) };
        // SAFETY: the sample's bytes lie inside the mapping (see above).
        let data = unsafe { header.add(HEADER) };
        // Zero the sample: the space holds whatever went round before.
        // SAFETY: as above.
        unsafe { zero(data, len) };
        // The busy header is seen before the kernel can look past it.
        // SAFETY: the producer page is mapped writable for `self`'s life.
        unsafe { (*self.producer_pos).store(producer.wrapping_add(span), Ordering::Release) };
        Ok(Some(UserSample {
            header,
            data,
            len,
            done: false,
            name: &self.name,
            _writer: PhantomData,
        }))
    }

    /// Writes `bytes` as one sample (reserve, copy, submit); `false`, with
    /// nothing written, while the ring has no room for it.
    pub fn write(&mut self, bytes: &[u8]) -> Result<bool> {
        let Some(mut sample) = self.reserve(bytes.len())? else {
            return Ok(false);
        };
        sample.write_bytes(0, bytes)?;
        sample.submit();
        Ok(true)
    }

    /// Writes `value`'s bytes as one sample; see [`UserRingBufWriter::write`].
    pub fn write_value<T: Pod>(&mut self, value: &T) -> Result<bool> {
        self.write(value.as_bytes())
    }

    /// Waits until a sample of `len` bytes fits or `timeout` passes (`None`
    /// waits as long as it takes); returns whether it fits. The kernel
    /// wakes the writer each time a program drains samples (unless it
    /// drains with `BPF_RB_NO_WAKEUP`).
    pub fn wait_for_room(&mut self, len: usize, timeout: Option<Duration>) -> Result<bool> {
        let span = self.span(len)?;
        let deadline = Deadline::new(timeout);
        loop {
            if self.free() >= span {
                return Ok(true);
            }
            if deadline.expired() {
                return Ok(false);
            }
            self.epoll
                .wait(deadline.remaining(), |_| {})
                .map_err(|source| self.error("wait for room", source))?;
        }
    }

    /// The bytes a sample of `len` bytes takes in the ring, or why it never
    /// fits.
    fn span(&self, len: usize) -> Result<usize> {
        let span = (len + HEADER).next_multiple_of(8);
        if len > MAX_SAMPLE || span > self.capacity() {
            return Err(self.error(
                "reserve a sample",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a sample of {len} bytes does not fit a ring of {} bytes (with its \
                         8-byte header) or is longer than the {MAX_SAMPLE} bytes a program \
                         may be handed",
                        self.capacity()
                    ),
                ),
            ));
        }
        Ok(span)
    }

    fn producer(&self) -> usize {
        // SAFETY: the producer page is mapped for `self`'s life.
        unsafe { (*self.producer_pos).load(Ordering::Acquire) }
    }

    fn consumer(&self) -> usize {
        // SAFETY: the consumer page is mapped for `self`'s life; the kernel
        // stores it with release ordering once it is done with a sample.
        unsafe { (*self.consumer_pos).load(Ordering::Acquire) }
    }

    fn error(&self, op: &'static str, source: io::Error) -> Error {
        Error::Map {
            op,
            map: self.name.clone(),
            source,
        }
    }
}

/// Zeroes `len` bytes of shared memory at `at`.
///
/// # Safety
/// `at` is valid for writes of `len` bytes, accessed only atomically.
unsafe fn zero(at: *mut u8, len: usize) {
    const ZEROES: [u8; 64] = [0; 64];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(ZEROES.len());
        // SAFETY: the caller's contract; `done + n <= len`.
        unsafe { atomic::store_bytes(at.add(done), &ZEROES[..n]) };
        done += n;
    }
}

impl crate::map::UserRingBuf {
    /// The writer of this user ring buffer; see [`UserRingBufWriter::new`].
    pub fn writer(&self) -> Result<UserRingBufWriter> {
        UserRingBufWriter::new(self.map())
    }
}

fd_from_field!(UserRingBufWriter => fd);

impl fmt::Debug for UserRingBufWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRingBufWriter")
            .field("name", &self.name)
            .field("capacity", &self.capacity())
            .field("free", &self.free())
            .finish()
    }
}

/// A sample reserved in a user ring buffer, written in place and then
/// submitted (or discarded; dropping it unsubmitted discards it). The
/// kernel reads none of it before it is submitted, and samples reach the
/// program in the order they were reserved.
pub struct UserSample<'a> {
    header: *mut u8,
    data: *mut u8,
    len: usize,
    done: bool,
    /// The ring's name, for errors.
    name: &'a str,
    _writer: PhantomData<&'a mut UserRingBufWriter>,
}

// SAFETY: a sample is written only through `&mut self`, with atomic stores,
// into memory its writer (mutably borrowed for `'a`) keeps mapped.
unsafe impl Send for UserSample<'_> {}
// SAFETY: `&self` only reads the length and the name.
unsafe impl Sync for UserSample<'_> {}

impl UserSample<'_> {
    /// The sample's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the sample is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `value`'s bytes at `offset`; fails, writing nothing, when
    /// they do not lie inside the sample.
    pub fn write_at<T: Pod>(&mut self, offset: usize, value: &T) -> Result<()> {
        self.write_bytes(offset, value.as_bytes())
    }

    /// Writes `bytes` at `offset`; fails, writing nothing, when they do not
    /// lie inside the sample.
    pub fn write_bytes(&mut self, offset: usize, bytes: &[u8]) -> Result<()> {
        if offset
            .checked_add(bytes.len())
            .is_none_or(|end| end > self.len)
        {
            return Err(Error::Map {
                op: "write a sample",
                map: self.name.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} bytes at offset {offset} do not lie inside the sample of {} bytes",
                        bytes.len(),
                        self.len
                    ),
                ),
            });
        }
        // SAFETY: `offset..offset + len` lies inside the reserved sample,
        // which the kernel does not read before it is submitted.
        unsafe { atomic::store_bytes(self.data.add(offset), bytes) };
        Ok(())
    }

    /// Hands the sample to the kernel, for the next drain to pass to the
    /// program.
    pub fn submit(mut self) {
        self.commit(self.len as u32);
    }

    /// Throws the sample away: the kernel skips it.
    pub fn discard(mut self) {
        self.commit(self.len as u32 | DISCARD_BIT);
    }

    fn commit(&mut self, word: u32) {
        self.done = true;
        // The sample's bytes are seen before the header that publishes it.
        // SAFETY: the header is an aligned u32 inside the writer's mapping.
        unsafe { (*self.header.cast::<AtomicU32>()).store(word, Ordering::Release) };
    }
}

impl Drop for UserSample<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.commit(self.len as u32 | DISCARD_BIT);
        }
    }
}

impl fmt::Debug for UserSample<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserSample")
            .field("len", &self.len)
            .finish()
    }
}
