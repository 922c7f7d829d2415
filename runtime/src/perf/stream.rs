//! Async reading through tokio's `AsyncFd` (feature `tokio`): tokio
//! watches the reader's epoll instance, which turns readable when the
//! kernel wakes any CPU's ring.

use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use tokio::io::unix::AsyncFd;

use super::{PerfEvent, PerfReader};
use crate::error::{Error, Result};
use crate::ringbuf::stream::{poll_ready, register, Source};

impl Source for PerfReader {
    fn ready(&mut self) -> bool {
        self.has_next()
    }

    fn settle(&mut self) {
        self.clear_events();
    }
}

/// A [`PerfReader`] that waits for samples asynchronously, on tokio.
///
/// Its `async` methods lend samples like the reader's own; as a [`Stream`]
/// it yields each sample with its CPU, copied into a `Vec<u8>` (loss reports
/// are counted, see [`PerfReader::lost`]).
#[derive(Debug)]
pub struct AsyncPerfReader {
    fd: AsyncFd<OwnedFd>,
    inner: PerfReader,
}

impl AsyncPerfReader {
    /// Registers `reader` with the current tokio runtime; fails outside one.
    pub fn new(reader: PerfReader) -> Result<Self> {
        let fd = register(&reader, || {
            format!("registering perf buffer `{}` with tokio", reader.name())
        })?;
        Ok(AsyncPerfReader { fd, inner: reader })
    }

    /// Waits until a record (sample or loss report) can be read.
    pub async fn readable(&mut self) -> Result<()> {
        let result = poll_fn(|cx| poll_ready(&self.fd, &mut self.inner, cx)).await;
        result.map_err(|source| self.wait_error(source))
    }

    /// Waits for the next sample or loss report and lends it.
    pub async fn next(&mut self) -> Result<PerfEvent<'_>> {
        self.readable().await?;
        // `readable` returned with a record at some ring's tail.
        self.inner.next().ok_or_else(|| {
            Error::sys(
                "reading a perf buffer",
                io::Error::from(io::ErrorKind::WouldBlock),
            )
        })
    }

    /// Waits for the next sample and copies it into a `T`; see
    /// [`PerfReader::next_as`].
    pub async fn next_as<T: crate::Pod>(&mut self) -> Result<T> {
        loop {
            self.readable().await?;
            if let Some(value) = self.inner.next_as::<T>()? {
                return Ok(value);
            }
        }
    }

    /// Waits until there is a record, then hands every sample there is to
    /// `f` with its CPU; returns how many samples there were (0 when only
    /// loss reports came).
    pub async fn drain(&mut self, f: impl FnMut(u32, &[u8])) -> Result<usize> {
        self.readable().await?;
        Ok(self.inner.drain(f))
    }

    /// The reader.
    pub fn get_ref(&self) -> &PerfReader {
        &self.inner
    }

    /// The reader, to read without waiting.
    pub fn get_mut(&mut self) -> &mut PerfReader {
        &mut self.inner
    }

    /// The reader, no longer registered with tokio.
    pub fn into_inner(self) -> PerfReader {
        self.inner
    }

    fn wait_error(&self, source: io::Error) -> Error {
        Error::Map {
            op: "wait for samples",
            map: self.inner.name().to_owned(),
            source,
        }
    }
}

impl Stream for AsyncPerfReader {
    type Item = Result<(u32, Vec<u8>)>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Err(source) = ready!(poll_ready(&this.fd, &mut this.inner, cx)) {
                return Poll::Ready(Some(Err(this.wait_error(source))));
            }
            // Only loss reports were there: counted, wait again.
            if let Some((cpu, sample)) = this.inner.next_sample() {
                return Poll::Ready(Some(Ok((cpu, sample.to_vec()))));
            }
        }
    }
}
