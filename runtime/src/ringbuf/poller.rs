//! Several ring buffers behind one epoll.

use std::os::fd::AsFd;
use std::time::Duration;

use super::{Record, RingBufReader};
use crate::error::{Error, Result};
use crate::os::epoll::Epoll;
use crate::os::fd_from_field;
use crate::os::poll::poll_until;

/// Reads several ring buffers, waiting on all of them with one epoll.
///
/// Each ring is a [`RingBufReader`] added with [`RingBufPoller::add`], which
/// returns its index; records come back with the index of their ring.
///
/// ```no_run
/// use ebpf_skeleton::{RingBufPoller, RingBufReader};
/// # use ebpf_skeleton::RingBuf;
/// # // The maps part of a skeleton's `Objects` with two ring buffers.
/// # struct Maps { execs: RingBuf, exits: RingBuf }
/// # struct Objects { maps: Maps }
///
/// # fn example(objs: &Objects) -> ebpf_skeleton::Result<()> {
/// let mut rings = RingBufPoller::new()?;
/// let execs = rings.add(RingBufReader::new(objs.maps.execs.map())?)?;
/// let exits = rings.add(objs.maps.exits.reader()?)?; // the same, shorter
/// while rings.poll(None)? {
///     rings.drain(|ring, record| {
///         let what = if ring == execs { "exec" } else { "exit" };
///         println!("{what}: {} bytes", record.len());
///     });
/// }
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct RingBufPoller {
    rings: Vec<RingBufReader>,
    epoll: Epoll,
    /// The ring `next` reads first.
    cursor: usize,
}

impl RingBufPoller {
    /// A poller with no rings yet.
    pub fn new() -> Result<Self> {
        let epoll =
            Epoll::new().map_err(|source| Error::sys("creating an epoll instance", source))?;
        Ok(RingBufPoller {
            rings: Vec::new(),
            epoll,
            cursor: 0,
        })
    }

    /// Adds a ring; returns its index, which [`RingBufPoller::next`] and
    /// [`RingBufPoller::drain`] report with its records.
    pub fn add(&mut self, reader: RingBufReader) -> Result<usize> {
        let index = self.rings.len();
        self.epoll
            .add(reader.as_fd(), index as u64)
            .map_err(|source| Error::Map {
                op: "add to an epoll instance",
                map: reader.name().to_owned(),
                source,
            })?;
        self.rings.push(reader);
        Ok(index)
    }

    /// The number of rings.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether there are no rings.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// The reader of ring `index`.
    pub fn reader(&self, index: usize) -> Option<&RingBufReader> {
        self.rings.get(index)
    }

    /// The reader of ring `index`, to read it alone.
    pub fn reader_mut(&mut self, index: usize) -> Option<&mut RingBufReader> {
        self.rings.get_mut(index)
    }

    /// The next record of any ring, with the ring's index, or `None` when no
    /// ring has one right now. Rings take turns: each read moves on from the
    /// ring the previous record came from only when that ring is empty.
    // A lending read: the record borrows the reader, which `Iterator` cannot express.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<(usize, Record<'_>)> {
        let index = self.find_ready()?;
        self.rings[index].next().map(|record| (index, record))
    }

    /// Hands every record of every ring to `f` with its ring's index (ring
    /// by ring); returns how many there were.
    pub fn drain(&mut self, mut f: impl FnMut(usize, Record<'_>)) -> usize {
        let mut count = 0;
        for (index, ring) in self.rings.iter_mut().enumerate() {
            count += ring.drain(|record| f(index, record));
        }
        count
    }

    /// Whether any ring has a record to read now.
    pub fn has_next(&mut self) -> bool {
        self.find_ready().is_some()
    }

    /// Waits until some ring has a record or `timeout` passes (`None` waits
    /// as long as it takes); returns whether one has. Returns at once,
    /// without a system call, when a record is already there.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<bool> {
        poll_until(self, timeout, Self::has_next, |poller, left| {
            let woken = poller.epoll.wait(left, |_| {});
            woken
                .map(|n| n > 0)
                .map_err(|source| Error::sys("waiting on the ring buffers' epoll", source))
        })
    }

    /// The first ring from the cursor on with a record, made the cursor.
    #[inline]
    fn find_ready(&mut self) -> Option<usize> {
        let cursor = self.cursor;
        if self
            .rings
            .get_mut(cursor)
            .is_some_and(|ring| ring.has_next())
        {
            return Some(cursor);
        }
        self.find_ready_elsewhere()
    }

    /// The ring at the cursor is empty: the next of the others with a
    /// record, made the cursor.
    #[inline(never)]
    fn find_ready_elsewhere(&mut self) -> Option<usize> {
        let n = self.rings.len();
        for step in 1..=n {
            let index = (self.cursor + step) % n;
            if self.rings[index].has_next() {
                self.cursor = index;
                return Some(index);
            }
        }
        None
    }

    /// Takes the kernel's pending events off the epoll without waiting.
    #[cfg(feature = "tokio")]
    pub(crate) fn clear_events(&mut self) {
        let _ = self.epoll.wait(Some(Duration::ZERO), |_| {});
    }
}

fd_from_field!(
    /// The epoll instance, readable when a ring is.
    RingBufPoller => epoll
);

impl IntoIterator for RingBufPoller {
    type Item = RingBufReader;
    type IntoIter = std::vec::IntoIter<RingBufReader>;

    /// The readers, in the order they were added.
    fn into_iter(self) -> Self::IntoIter {
        self.rings.into_iter()
    }
}
