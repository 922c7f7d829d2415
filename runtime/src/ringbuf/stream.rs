//! Async reading through tokio's `AsyncFd` (feature `tokio`).
//!
//! tokio watches a duplicate of the reader's descriptor, owned by the async
//! wrapper and never handed out, edge-triggered. A wait therefore always
//! looks at the ring itself first, and gives up its readiness only after
//! finding the ring empty with the consumer position stored, so that the
//! kernel's next record wakes it (see `RingBufReader::refill`).

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::{Record, RingBufPoller, RingBufReader};
use crate::error::{Error, Result};

/// What an async reader waits on: a descriptor tokio can watch (its
/// `AsFd`), and a way to tell whether a record is there.
pub(crate) trait Source: AsFd {
    /// Whether a record can be read now; when not, arranges for the
    /// kernel's next record to make the descriptor readable.
    fn ready(&mut self) -> bool;

    /// Called before readiness is given up: takes pending events off an
    /// inner epoll, so that its descriptor turns readable again only for new
    /// ones.
    fn settle(&mut self) {}
}

impl Source for RingBufReader {
    fn ready(&mut self) -> bool {
        self.has_next()
    }
}

impl Source for RingBufPoller {
    fn ready(&mut self) -> bool {
        self.has_next()
    }

    fn settle(&mut self) {
        self.clear_events();
    }
}

/// Registers a duplicate of `source`'s descriptor with the current tokio
/// runtime, for reading.
pub(crate) fn register<S: Source>(
    source: &S,
    what: impl Fn() -> String,
) -> Result<AsyncFd<OwnedFd>> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::sys(
            what(),
            io::Error::other("not inside a tokio runtime (AsyncFd needs one)"),
        ));
    }
    let fd = source
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| Error::sys(what(), e))?;
    // SAFETY: the `AsyncFd` owns `fd`, which stays open and the same until it
    // is dropped; the wrappers never hand the `AsyncFd` or its fd out.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
        .map_err(|e| Error::sys(what(), e.into_parts().1))
}

/// Ready when `source` has a record; `fd` is its registered descriptor.
pub(crate) fn poll_ready<S: Source>(
    fd: &AsyncFd<OwnedFd>,
    source: &mut S,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    loop {
        if source.ready() {
            return Poll::Ready(Ok(()));
        }
        let mut guard = ready!(fd.poll_read_ready(cx))?;
        if source.ready() {
            return Poll::Ready(Ok(()));
        }
        source.settle();
        // Only clears the readiness seen when the guard was made: an event
        // that arrived since keeps the next poll from sleeping.
        guard.clear_ready();
    }
}

/// A [`RingBufReader`] that waits for records asynchronously, on tokio.
///
/// Its `async` methods lend records like the reader's own; as a
/// [`Stream`] it yields each record copied into a `Vec<u8>`.
///
/// ```no_run
/// # ebpf_skeleton::ebpf_skeleton!(
/// #     "../../../examples/execsnoop/bpf/execsnoop.bpf.o",
/// #     types = [event]
/// # );
/// # use execsnoop::types::Event;
/// use ebpf_skeleton::ringbuf::AsyncRingBufReader;
///
/// # async fn example(objs: &execsnoop::Objects) -> ebpf_skeleton::Result<()> {
/// let mut events = AsyncRingBufReader::new(objs.maps.events.reader()?)?;
/// loop {
///     let ev = events.next_as::<Event>().await?;
///     println!("exec by pid {}", ev.pid);
/// }
/// # }
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct AsyncRingBufReader {
    fd: AsyncFd<OwnedFd>,
    inner: RingBufReader,
}

impl AsyncRingBufReader {
    /// Registers `reader` with the current tokio runtime; fails outside one.
    pub fn new(reader: RingBufReader) -> Result<Self> {
        let fd = register(&reader, || {
            format!("registering ring buffer `{}` with tokio", reader.name())
        })?;
        Ok(AsyncRingBufReader { fd, inner: reader })
    }

    /// Waits until a record can be read.
    pub async fn readable(&mut self) -> Result<()> {
        let result = poll_fn(|cx| poll_ready(&self.fd, &mut self.inner, cx)).await;
        result.map_err(|source| self.wait_error(source))
    }

    /// Waits for the next record and lends it.
    pub async fn next(&mut self) -> Result<Record<'_>> {
        while !self.inner.has_next() {
            self.readable().await?;
        }
        self.inner.next().ok_or_else(not_there)
    }

    /// Waits for the next record and copies it into a `T`; see
    /// [`RingBufReader::next_as`] (a record of another size is an error
    /// and stays in the ring).
    pub async fn next_as<T: crate::Pod>(&mut self) -> Result<T> {
        loop {
            self.readable().await?;
            if let Some(value) = self.inner.next_as::<T>()? {
                return Ok(value);
            }
        }
    }

    /// Waits until there is a record, then hands every record there is to
    /// `f`; returns how many there were (at least one).
    pub async fn drain(&mut self, f: impl FnMut(Record<'_>)) -> Result<usize> {
        self.readable().await?;
        Ok(self.inner.drain(f))
    }

    /// The reader.
    pub fn get_ref(&self) -> &RingBufReader {
        &self.inner
    }

    /// The reader, to read without waiting.
    pub fn get_mut(&mut self) -> &mut RingBufReader {
        &mut self.inner
    }

    /// The reader, no longer registered with tokio.
    pub fn into_inner(self) -> RingBufReader {
        self.inner
    }

    fn wait_error(&self, source: io::Error) -> Error {
        Error::Map {
            op: "wait for records",
            map: self.inner.name().to_owned(),
            source,
        }
    }
}

impl Stream for AsyncRingBufReader {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Err(source) = ready!(poll_ready(&this.fd, &mut this.inner, cx)) {
            return Poll::Ready(Some(Err(this.wait_error(source))));
        }
        Poll::Ready(this.inner.next().map(|record| Ok(record.to_vec())))
    }
}

/// A [`RingBufPoller`] that waits for records asynchronously, on tokio.
///
/// As a [`Stream`] it yields each record with its ring's index, copied.
#[derive(Debug)]
pub struct AsyncRingBufPoller {
    fd: AsyncFd<OwnedFd>,
    inner: RingBufPoller,
}

impl AsyncRingBufPoller {
    /// Registers `poller` with the current tokio runtime; fails outside one.
    pub fn new(poller: RingBufPoller) -> Result<Self> {
        let fd = register(&poller, || {
            "registering a ring buffer poller with tokio".to_owned()
        })?;
        Ok(AsyncRingBufPoller { fd, inner: poller })
    }

    /// Waits until some ring has a record.
    pub async fn readable(&mut self) -> Result<()> {
        poll_fn(|cx| poll_ready(&self.fd, &mut self.inner, cx))
            .await
            .map_err(|source| Error::sys("waiting on the ring buffers", source))
    }

    /// Waits for the next record of any ring and lends it with its ring's
    /// index.
    pub async fn next(&mut self) -> Result<(usize, Record<'_>)> {
        while !self.inner.has_next() {
            self.readable().await?;
        }
        self.inner.next().ok_or_else(not_there)
    }

    /// Waits until some ring has a record, then hands every record of every
    /// ring to `f`; returns how many there were.
    pub async fn drain(&mut self, f: impl FnMut(usize, Record<'_>)) -> Result<usize> {
        self.readable().await?;
        Ok(self.inner.drain(f))
    }

    /// The poller.
    pub fn get_ref(&self) -> &RingBufPoller {
        &self.inner
    }

    /// The poller, to read without waiting.
    pub fn get_mut(&mut self) -> &mut RingBufPoller {
        &mut self.inner
    }

    /// The poller, no longer registered with tokio.
    pub fn into_inner(self) -> RingBufPoller {
        self.inner
    }
}

impl Stream for AsyncRingBufPoller {
    type Item = Result<(usize, Vec<u8>)>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Err(source) = ready!(poll_ready(&this.fd, &mut this.inner, cx)) {
            return Poll::Ready(Some(Err(Error::sys("waiting on the ring buffers", source))));
        }
        Poll::Ready(
            this.inner
                .next()
                .map(|(i, record)| Ok((i, record.to_vec()))),
        )
    }
}

/// The error for a record that `has_next` saw and `next` did not find (which
/// the reader's bookkeeping rules out).
fn not_there() -> Error {
    Error::sys(
        "reading a ring buffer",
        io::Error::from(io::ErrorKind::WouldBlock),
    )
}
