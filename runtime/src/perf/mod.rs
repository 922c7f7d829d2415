//! Reading a perf event array (`BPF_MAP_TYPE_PERF_EVENT_ARRAY`): one ring
//! per online CPU, read straight from its memory.
//!
//! A [`PerfReader`] opens a BPF output event (`PERF_COUNT_SW_BPF_OUTPUT`) on
//! each online CPU, stores its descriptor in the map at the CPU's index (so
//! that `bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, ...)` writes to
//! it), and maps its ring: a header page and `2^n` data pages. Samples are
//! handed out as borrowed `&[u8]` pointing into the ring; only a sample that
//! runs past the end of the ring is first copied, into a buffer the reader
//! keeps. Each CPU's read position is stored once per batch, not per record.
//!
//! When a ring is full the kernel drops samples and later writes a "lost"
//! record with their number; the reader adds these up per CPU
//! ([`PerfReader::lost`]) and [`PerfReader::next`] reports them as they come.
//!
//! ```no_run
//! # ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/perf.bpf.o");
//! # fn main() -> ebpf_skeleton::Result<()> {
//! # let objs = perf::Objects::load()?;
//! let mut events = objs.maps.events.reader()?; // a `PerfReader`
//! while events.poll(None)? {
//!     events.drain(|cpu, sample| println!("{} bytes from CPU {cpu}", sample.len()));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The kernel pads each sample so that records stay 8-byte aligned: a
//! sample is up to 7 bytes longer than what the program wrote (4 bytes for
//! an 8-byte write). The kernel skips the padding rather than writing it,
//! so those bytes hold whatever the ring held there before.

mod ring;
#[cfg(feature = "tokio")]
mod stream;

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use libbpf_sys as sys;

use crate::claim::{Claim, Part};
use crate::error::{Error, Result};
use crate::map::{duplicate_fd, Map, MapType};
use crate::os::epoll::Epoll;
use crate::os::fd_from_field;
use crate::os::poll::poll_until;
use ring::{CpuRing, Raw};

/// The CPUs that are online, from `/sys/devices/system/cpu/online`: the
/// CPUs a [`PerfReader`] reads by default.
pub fn online_cpus() -> std::io::Result<Vec<u32>> {
    crate::os::cpus::online_cpus()
}
#[cfg(feature = "tokio")]
pub use stream::AsyncPerfReader;

/// When the kernel wakes a reader that waits for samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// After this many samples on a CPU (`wakeup_events`; 0 counts as 1).
    Events(u32),
    /// Once this many bytes are written on a CPU (`wakeup_watermark`).
    Bytes(u32),
}

/// How a [`PerfReader`] sets up its rings.
///
/// ```no_run
/// use ebpf_skeleton::{PerfEventArray, PerfOptions, Wakeup};
///
/// # fn example(events: &PerfEventArray) -> ebpf_skeleton::Result<()> {
/// let options = PerfOptions::new().pages(16).wakeup(Wakeup::Events(8));
/// let reader = events.reader_with(&options)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerfOptions {
    pages: usize,
    wakeup: Wakeup,
    cpus: Option<Vec<u32>>,
}

impl Default for PerfOptions {
    fn default() -> Self {
        PerfOptions {
            pages: 64,
            wakeup: Wakeup::Events(1),
            cpus: None,
        }
    }
}

impl PerfOptions {
    /// The defaults: 64 data pages per CPU, a wakeup for every sample, every
    /// online CPU.
    pub fn new() -> Self {
        Self::default()
    }

    /// Data pages of each CPU's ring: a power of two.
    pub fn pages(mut self, pages: usize) -> Self {
        self.pages = pages;
        self
    }

    /// When the kernel wakes a waiting reader.
    pub fn wakeup(mut self, wakeup: Wakeup) -> Self {
        self.wakeup = wakeup;
        self
    }

    /// Reads only these CPUs instead of every online one.
    pub fn cpus(mut self, cpus: impl IntoIterator<Item = u32>) -> Self {
        self.cpus = Some(cpus.into_iter().collect());
        self
    }
}

/// What [`PerfReader::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfEvent<'a> {
    /// A sample a program wrote, with the kernel's padding.
    Sample {
        /// The CPU whose ring held it.
        cpu: u32,
        /// The sample's bytes, borrowed from the ring.
        data: &'a [u8],
    },
    /// The kernel dropped samples on `cpu` for want of room.
    Lost {
        /// The CPU whose ring was full.
        cpu: u32,
        /// How many samples were dropped.
        count: u64,
    },
}

/// A reader of a perf event array, one ring per CPU.
///
/// It keeps its own descriptor of the map, and claims the map's slot of
/// each CPU it reads: a second reader in this process on the same CPU of
/// the same map is refused ([`Error::Busy`]) instead of taking the slot
/// over. When dropped, it removes its events from the map (as libbpf does),
/// unmaps the rings and closes every descriptor; samples not read by then
/// are gone.
pub struct PerfReader {
    rings: Vec<CpuRing>,
    /// This process's claims on the slots of `rings`' CPUs; released after
    /// `Drop` cleared the slots.
    _claims: Vec<Claim>,
    /// Records that wrap around the end of a ring, made whole.
    scratch: Vec<u8>,
    /// A sample a typed read refused, with its CPU: handed out again first.
    held: Option<(u32, Vec<u8>)>,
    /// The ring `next` reads first.
    cursor: usize,
    epoll: Epoll,
    map_fd: OwnedFd,
    name: String,
}

impl PerfReader {
    /// Opens a ring on every online CPU with the default options.
    pub fn new(map: &Map) -> Result<Self> {
        Self::with_options(map, &PerfOptions::default())
    }

    /// Opens the rings `options` asks for.
    ///
    /// Fails with [`Error::MapKind`] when `map` is not a perf event
    /// array, and [`Error::ReaderOption`] when the page count is not a power
    /// of two or a CPU has no slot in the map.
    pub fn with_options(map: &Map, options: &PerfOptions) -> Result<Self> {
        let name = map.name().to_owned();
        if map.map_type() != MapType::PERF_EVENT_ARRAY {
            return Err(Error::MapKind {
                map: name,
                expected: &[MapType::PERF_EVENT_ARRAY],
                actual: map.map_type(),
            });
        }
        let invalid = |problem: String| Error::ReaderOption {
            map: name.clone(),
            problem,
        };
        if !options.pages.is_power_of_two() || options.pages > 1 << 20 {
            return Err(invalid(format!(
                "{} pages per CPU is not a power of two (up to 2^20)",
                options.pages
            )));
        }
        let cpus = match &options.cpus {
            Some(cpus) => cpus.clone(),
            None => {
                online_cpus().map_err(|source| Error::sys("reading the online CPUs", source))?
            }
        };
        let slots = map.info().max_entries;
        if let Some(cpu) = cpus.iter().find(|&&cpu| cpu >= slots) {
            return Err(invalid(format!(
                "CPU {cpu} has no slot in the map, which has {slots}"
            )));
        }
        if let Some(cpu) = cpus
            .iter()
            .enumerate()
            .find_map(|(i, c)| cpus[..i].contains(c).then_some(c))
        {
            return Err(invalid(format!("CPU {cpu} is listed twice")));
        }
        let claims = cpus
            .iter()
            .map(|&cpu| {
                Claim::take(map.info().id, Part::Slot(cpu)).ok_or_else(|| Error::Busy {
                    map: name.clone(),
                    what: format!("a perf reader on CPU {cpu}"),
                })
            })
            .collect::<Result<Vec<Claim>>>()?;
        let map_fd = duplicate_fd(map.as_fd(), &name)?;
        let epoll =
            Epoll::new().map_err(|source| Error::sys("creating an epoll instance", source))?;
        let mut reader = PerfReader {
            rings: Vec::with_capacity(cpus.len()),
            _claims: claims,
            scratch: Vec::new(),
            held: None,
            cursor: 0,
            epoll,
            map_fd,
            name,
        };
        for cpu in cpus {
            reader.open_cpu(cpu, options)?;
        }
        Ok(reader)
    }

    /// Opens, maps and registers the ring of `cpu`. On failure, what was
    /// done is undone when `self` is dropped.
    fn open_cpu(&mut self, cpu: u32, options: &PerfOptions) -> Result<()> {
        let ring = CpuRing::open(cpu, options.pages, options.wakeup).map_err(|source| {
            Error::sys(
                format!("opening the perf ring of CPU {cpu} for map `{}`", self.name),
                source,
            )
        })?;
        let index = self.rings.len();
        self.epoll
            .add(ring.fd(), index as u64)
            .map_err(|source| Error::sys("adding a perf ring to an epoll instance", source))?;
        let fd = ring.raw_fd();
        // SAFETY: key and value are the u32s a perf event array takes.
        let ret = unsafe {
            sys::bpf_map_update_elem(
                self.map_fd.as_raw_fd(),
                (&cpu as *const u32).cast(),
                (&fd as *const i32).cast(),
                sys::BPF_ANY as u64,
            )
        };
        // Pushed before the check so that Drop removes whatever got in.
        self.rings.push(ring);
        crate::error::check(ret).map_err(|source| Error::Map {
            op: "store a perf event in",
            map: self.name.clone(),
            source,
        })?;
        Ok(())
    }

    /// The name of the map read.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CPUs read, one ring each.
    pub fn cpus(&self) -> Vec<u32> {
        self.rings.iter().map(|r| r.cpu).collect()
    }

    /// The bytes written to `cpu`'s ring and not yet read, or `None` if that
    /// CPU is not read.
    pub fn pending(&self, cpu: u32) -> Option<u64> {
        self.rings
            .iter()
            .find(|r| r.cpu == cpu)
            .map(|r| r.pending())
    }

    /// The samples the kernel reported lost on `cpu` so far, or `None` if
    /// that CPU is not read.
    pub fn lost(&self, cpu: u32) -> Option<u64> {
        self.rings.iter().find(|r| r.cpu == cpu).map(|r| r.lost)
    }

    /// The samples reported lost on each CPU so far, as `(cpu, count)`.
    pub fn lost_per_cpu(&self) -> Vec<(u32, u64)> {
        self.rings.iter().map(|r| (r.cpu, r.lost)).collect()
    }

    /// The samples reported lost on all CPUs so far.
    pub fn lost_total(&self) -> u64 {
        self.rings.iter().map(|r| r.lost).sum()
    }

    /// The next sample or loss report of any CPU, or `None` when there is
    /// none right now. CPUs take turns: reading moves on from a CPU only
    /// when its ring is empty.
    // A lending read: the record borrows the reader, which `Iterator` cannot express.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<PerfEvent<'_>> {
        let (cpu, raw) = self.next_raw()?;
        Some(match raw {
            Raw::Sample(ptr, len) => PerfEvent::Sample {
                cpu,
                // SAFETY: the sample lies in an unread part of the ring or
                // in `scratch`; neither changes while `self` is borrowed.
                data: unsafe { std::slice::from_raw_parts(ptr, len) },
            },
            Raw::Lost(count) => PerfEvent::Lost { cpu, count },
        })
    }

    /// The next sample of any CPU, with the CPU, or `None` when there is none
    /// right now. Loss reports on the way are counted (see
    /// [`PerfReader::lost`]).
    #[inline]
    pub fn next_sample(&mut self) -> Option<(u32, &[u8])> {
        loop {
            let (cpu, raw) = self.next_raw()?;
            if let Raw::Sample(ptr, len) = raw {
                // SAFETY: as in `next`.
                return Some((cpu, unsafe { std::slice::from_raw_parts(ptr, len) }));
            }
        }
    }

    /// The next sample copied into a `T`, or `None` when there is none right
    /// now. Samples are only 4-byte aligned in the ring, hence the copy.
    ///
    /// A sample may be up to 7 bytes longer than `T` (the kernel's padding,
    /// ignored); any other size fails with [`Error::RecordSize`], and the
    /// sample is not lost: the next read hands it out again. For a fixed
    /// header followed by a variable tail, read the sample with
    /// [`PerfReader::next_sample`] and the header with
    /// [`Pod::read_from_prefix`](crate::Pod::read_from_prefix), which
    /// returns the tail too.
    #[inline]
    pub fn next_as<T: crate::Pod>(&mut self) -> Result<Option<T>> {
        let Some((cpu, data)) = self.next_sample() else {
            return Ok(None);
        };
        let len = data.len();
        if len >= size_of::<T>() && len - size_of::<T>() < 8 {
            if let Some((value, _)) = T::read_from_prefix(data) {
                return Ok(Some(value));
            }
        }
        let kept = data.to_vec();
        self.held = Some((cpu, kept));
        Err(Error::RecordSize {
            map: self.name.clone(),
            type_name: std::any::type_name::<T>(),
            expected: size_of::<T>(),
            actual: len,
        })
    }

    /// Hands every sample there is now to `f` with its CPU, CPU by CPU, and
    /// gives the space back to the kernel; returns how many samples there
    /// were. Loss reports are counted (see [`PerfReader::lost`]).
    #[inline]
    pub fn drain(&mut self, mut f: impl FnMut(u32, &[u8])) -> usize {
        let mut count = 0;
        if let Some((cpu, sample)) = self.held.take() {
            f(cpu, &sample);
            count += 1;
        }
        for ring in &mut self.rings {
            count += ring.drain(&mut self.scratch, &mut f);
        }
        count
    }

    /// Whether a record (sample or loss report) is there to read now.
    pub fn has_next(&mut self) -> bool {
        self.held.is_some() || self.rings.iter_mut().any(|r| r.has_data())
    }

    /// Waits until a record can be read or `timeout` passes (`None` waits as
    /// long as it takes); returns whether one can. Returns at once, without
    /// a system call, when a record is already there; otherwise sleeps until
    /// the kernel wakes the reader, as [`Wakeup`] says.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<bool> {
        poll_until(self, timeout, Self::has_next, |reader, left| {
            Ok(reader.wait_wakeup(left)? > 0)
        })
    }

    /// Waits for the kernel to wake the reader, as [`Wakeup`] says, or for
    /// `timeout` to pass, without looking at the rings; returns how many
    /// CPUs' rings woke it (0 when the time ran out).
    pub fn wait_wakeup(&mut self, timeout: Option<Duration>) -> Result<usize> {
        self.epoll
            .wait(timeout, |_| {})
            .map_err(|source| Error::Map {
                op: "wait for samples",
                map: self.name.clone(),
                source,
            })
    }

    /// The next record of the ring at the cursor, or of the next non-empty
    /// ring.
    #[inline]
    fn next_raw(&mut self) -> Option<(u32, Raw)> {
        if let Some((cpu, sample)) = self.held.take() {
            // Lent from `scratch`, which the next read may overwrite.
            self.scratch = sample;
            return Some((cpu, Raw::Sample(self.scratch.as_ptr(), self.scratch.len())));
        }
        if let Some(ring) = self.rings.get_mut(self.cursor) {
            if let Some(raw) = ring.next(&mut self.scratch) {
                return Some((ring.cpu, raw));
            }
        }
        self.next_raw_elsewhere()
    }

    /// The ring at the cursor is empty: the next record of the other rings,
    /// in turn, made the cursor.
    #[inline(never)]
    fn next_raw_elsewhere(&mut self) -> Option<(u32, Raw)> {
        let n = self.rings.len();
        for step in 1..=n {
            let index = (self.cursor + step) % n;
            let ring = &mut self.rings[index];
            if let Some(raw) = ring.next(&mut self.scratch) {
                self.cursor = index;
                return Some((ring.cpu, raw));
            }
        }
        None
    }

    /// Takes the kernel's pending wakeups off the epoll without waiting.
    #[cfg(feature = "tokio")]
    pub(crate) fn clear_events(&mut self) {
        let _ = self.epoll.wait(Some(Duration::ZERO), |_| {});
    }
}

impl crate::map::PerfEventArray {
    /// A reader of every online CPU's ring with the default options; see
    /// [`PerfReader::new`].
    pub fn reader(&self) -> Result<PerfReader> {
        PerfReader::new(self.map())
    }

    /// A reader set up as `options` says; see [`PerfReader::with_options`].
    pub fn reader_with(&self, options: &PerfOptions) -> Result<PerfReader> {
        PerfReader::with_options(self.map(), options)
    }
}

fd_from_field!(
    /// The epoll instance over every CPU's ring, readable when the kernel
    /// woke one.
    PerfReader => epoll
);

impl Drop for PerfReader {
    fn drop(&mut self) {
        for ring in &mut self.rings {
            ring.commit();
            // Remove our event from the map, or the map would keep it (and
            // its ring) alive as long as the map lives. ENOENT is fine.
            let cpu = ring.cpu;
            // SAFETY: the key is the u32 a perf event array takes.
            unsafe {
                sys::bpf_map_delete_elem(self.map_fd.as_raw_fd(), (&cpu as *const u32).cast())
            };
        }
        // The rings (mappings, then descriptors), the epoll and the map's
        // descriptor go with the fields.
    }
}

impl fmt::Debug for PerfReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerfReader")
            .field("name", &self.name)
            .field("cpus", &self.cpus())
            .field("lost", &self.lost_total())
            .finish()
    }
}
