//! Ring buffer and perf buffer readers measured side by side: this crate's
//! readers, libbpf's C consumers (through libbpf-sys) and libbpf-rs.
//!
//! Each round pre-fills one ring per reader with `bench.bpf.o` run through
//! BPF_PROG_TEST_RUN, then times how long the reader takes to drain it. The
//! readers take turns within a round (in a rotating order) so that noise
//! from a shared machine falls on all of them alike, and the report gives
//! medians over many rounds. Every reader does the same work per record
//! ([`consume`]) and must hand out exactly the records the kernel wrote.

use std::cell::Cell;
use std::ffi::c_void;
use std::hint::black_box;
use std::os::fd::{AsFd, AsRawFd};
use std::ptr::NonNull;
use std::time::Instant;

use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::perf::online_cpus;
use ebpf_skeleton::{ebpf_skeleton, Map, PerfOptions, PerfReader, RingBufReader};

ebpf_skeleton!("../../tests/bpf/bench.bpf.o");

pub use bench::Objects;
/// Runs a `raw_tp` program once on a CPU, its arguments the context (the
/// kernel tests' helper, over `Program::test_run_on_cpu`).
pub use ebpf_skeleton_tests::run_on;

/// Record sizes measured, in bytes.
pub const RECORD_SIZES: [usize; 3] = [8, 64, 256];
/// Data pages of each perf ring: 1 MiB. (Every sample wakes the reader, as
/// libbpf and libbpf-rs set their rings up, which makes filling a perf ring
/// slow in a VM; a larger ring would only make the run longer.)
pub const PERF_PAGES: usize = 256;

/// The work every reader does with every record: fold its first word and
/// its length into an accumulator, so that the record is really read.
#[inline(always)]
pub fn consume(acc: &mut u64, data: &[u8]) {
    let first = data
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_ne_bytes(*w));
    *acc = acc.wrapping_add(first ^ data.len() as u64);
}

/// [`consume`] for a ring buffer [`Record`](ebpf_skeleton::Record), which
/// is read where it lies: the same fold, from one load of its first word.
#[inline(always)]
pub fn consume_record(acc: &mut u64, record: ebpf_skeleton::Record<'_>) {
    let first = record.read_prefix::<u64>().unwrap_or(0);
    *acc = acc.wrapping_add(first ^ record.len() as u64);
}

/// A reader under test, draining its own ring.
pub trait Contender {
    /// How the report names it.
    fn name(&self) -> &'static str;
    /// The index of its ring in `bench.bpf.o` (`ring0`.. or `perf0`..).
    fn ring(&self) -> u64;
    /// Reads every record there is; returns how many there were.
    fn drain(&mut self, acc: &mut u64) -> usize;
}

/// Pins the calling thread to `cpu`, so that perf samples land in that
/// CPU's ring and the measurements do not move between cores.
pub fn pin_to(cpu: u32) {
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET and sched_setaffinity
    // only touch the set given.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        let ret = libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(
            ret,
            0,
            "pinning to CPU {cpu}: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// The CPU the benchmark runs and fills rings on.
pub fn bench_cpu() -> u32 {
    online_cpus().expect("online CPUs")[0]
}

/// The rounds a benchmark measures: `EBPF_BENCH_ROUNDS`, 21 by default.
pub fn bench_rounds() -> usize {
    std::env::var("EBPF_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21)
        .max(1)
}

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Measures `contenders` over `rounds` rounds (after `warmup` unreported
/// ones): `fill(ring)` fills a contender's ring and says how many records
/// it wrote. Returns each contender's nanoseconds per record, one per round.
pub fn measure(
    contenders: &mut [Box<dyn Contender + '_>],
    rounds: usize,
    warmup: usize,
    mut fill: impl FnMut(u64) -> u32,
) -> Vec<Vec<f64>> {
    let n = contenders.len();
    let mut results = vec![Vec::with_capacity(rounds); n];
    let mut acc = 0u64;
    for round in 0..warmup + rounds {
        for turn in 0..n {
            let i = (round + turn) % n;
            let contender = &mut contenders[i];
            let written = fill(contender.ring()) as usize;
            assert!(written > 0, "{}: the ring took no record", contender.name());
            let start = Instant::now();
            let read = contender.drain(&mut acc);
            let elapsed = start.elapsed();
            assert_eq!(
                read,
                written,
                "{} read what the kernel wrote",
                contender.name()
            );
            if round >= warmup {
                results[i].push(elapsed.as_nanos() as f64 / read as f64);
            }
        }
    }
    black_box(acc);
    results
}

// ---------------------------------------------------------------------------
// Ring buffers

/// This crate's [`RingBufReader::drain`].
pub struct OurRingBuf(pub RingBufReader);

impl Contender for OurRingBuf {
    fn name(&self) -> &'static str {
        "ebpf-skeleton RingBufReader::drain"
    }
    fn ring(&self) -> u64 {
        0
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        self.0.drain(|data| consume_record(acc, data))
    }
}

/// This crate's [`RingBufReader::next`], record by record.
pub struct OurRingBufNext(pub RingBufReader);

impl Contender for OurRingBufNext {
    fn name(&self) -> &'static str {
        "ebpf-skeleton RingBufReader::next"
    }
    fn ring(&self) -> u64 {
        3
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        let mut n = 0;
        while let Some(data) = self.0.next() {
            consume_record(acc, data);
            n += 1;
        }
        n
    }
}

/// libbpf's C consumer: `ring_buffer__consume` with a C callback.
pub struct LibbpfRingBuf {
    rb: NonNull<sys::ring_buffer>,
    /// Where the callback folds records; boxed so that its address holds.
    acc: Box<u64>,
}

unsafe extern "C" fn ring_sample(ctx: *mut c_void, data: *mut c_void, size: sys::size_t) -> i32 {
    // SAFETY: `ctx` is the `Box<u64>` of a live `LibbpfRingBuf`; libbpf
    // hands a record of `size` bytes.
    unsafe {
        consume(
            &mut *ctx.cast::<u64>(),
            std::slice::from_raw_parts(data.cast(), size as usize),
        )
    };
    0
}

impl LibbpfRingBuf {
    /// `ring_buffer__new` on `map`.
    pub fn new(map: &Map) -> Self {
        let mut acc = Box::new(0u64);
        let ctx: *mut u64 = &mut *acc;
        // SAFETY: a ring buffer map's fd, a callback of the right type, and a
        // context that outlives the ring buffer (dropped after it).
        let rb = unsafe {
            sys::ring_buffer__new(
                map.as_fd().as_raw_fd(),
                Some(ring_sample),
                ctx.cast(),
                std::ptr::null(),
            )
        };
        let rb = NonNull::new(rb).expect("ring_buffer__new");
        LibbpfRingBuf { rb, acc }
    }
}

impl Contender for LibbpfRingBuf {
    fn name(&self) -> &'static str {
        "libbpf ring_buffer__consume (C)"
    }
    fn ring(&self) -> u64 {
        1
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        // SAFETY: a live ring buffer.
        let n = unsafe { sys::ring_buffer__consume(self.rb.as_ptr()) };
        assert!(n >= 0, "ring_buffer__consume: {n}");
        *acc = acc.wrapping_add(*self.acc);
        n as usize
    }
}

impl Drop for LibbpfRingBuf {
    fn drop(&mut self) {
        // SAFETY: created by ring_buffer__new, freed once.
        unsafe { sys::ring_buffer__free(self.rb.as_ptr()) };
    }
}

/// libbpf-rs: `RingBuffer::consume` with a Rust closure.
pub struct LibbpfRsRingBuf<'a> {
    rb: libbpf_rs::RingBuffer<'a>,
    count: &'a Cell<usize>,
    acc: &'a Cell<u64>,
}

impl<'a> LibbpfRsRingBuf<'a> {
    /// A `RingBuffer` over `map`, its callback counting into `count` and
    /// folding into `acc`.
    pub fn new(map: &'a libbpf_rs::MapHandle, count: &'a Cell<usize>, acc: &'a Cell<u64>) -> Self {
        let mut builder = libbpf_rs::RingBufferBuilder::new();
        builder
            .add(map, move |data: &[u8]| {
                let mut a = acc.get();
                consume(&mut a, data);
                acc.set(a);
                count.set(count.get() + 1);
                0
            })
            .expect("RingBufferBuilder::add");
        let rb = builder.build().expect("RingBufferBuilder::build");
        LibbpfRsRingBuf { rb, count, acc }
    }
}

impl Contender for LibbpfRsRingBuf<'_> {
    fn name(&self) -> &'static str {
        "libbpf-rs RingBuffer::consume"
    }
    fn ring(&self) -> u64 {
        2
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        self.count.set(0);
        self.rb.consume().expect("RingBuffer::consume");
        *acc = acc.wrapping_add(self.acc.get());
        self.count.get()
    }
}

// ---------------------------------------------------------------------------
// Perf buffers

/// This crate's [`PerfReader::drain`].
pub struct OurPerf(pub PerfReader);

impl OurPerf {
    /// A reader of `map` with [`PERF_PAGES`] pages per CPU.
    pub fn new(map: &Map) -> Self {
        let options = PerfOptions::new().pages(PERF_PAGES);
        OurPerf(PerfReader::with_options(map, &options).expect("PerfReader"))
    }
}

impl Contender for OurPerf {
    fn name(&self) -> &'static str {
        "ebpf-skeleton PerfReader::drain"
    }
    fn ring(&self) -> u64 {
        0
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        self.0.drain(|_, data| consume(acc, data))
    }
}

/// This crate's [`PerfReader::next_sample`], sample by sample.
pub struct OurPerfNext(pub PerfReader);

impl OurPerfNext {
    /// A reader of `map` with [`PERF_PAGES`] pages per CPU.
    pub fn new(map: &Map) -> Self {
        OurPerfNext(OurPerf::new(map).0)
    }
}

impl Contender for OurPerfNext {
    fn name(&self) -> &'static str {
        "ebpf-skeleton PerfReader::next_sample"
    }
    fn ring(&self) -> u64 {
        3
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        let mut n = 0;
        while let Some((_, data)) = self.0.next_sample() {
            consume(acc, data);
            n += 1;
        }
        n
    }
}

/// libbpf's C consumer: `perf_buffer__consume` with a C callback.
pub struct LibbpfPerf {
    pb: NonNull<sys::perf_buffer>,
    state: Box<PerfState>,
}

#[derive(Default)]
struct PerfState {
    acc: u64,
    count: usize,
}

unsafe extern "C" fn perf_sample(ctx: *mut c_void, _cpu: i32, data: *mut c_void, size: u32) {
    // SAFETY: `ctx` is the `PerfState` of a live `LibbpfPerf`; libbpf hands
    // a sample of `size` bytes.
    unsafe {
        let state = &mut *ctx.cast::<PerfState>();
        consume(
            &mut state.acc,
            std::slice::from_raw_parts(data.cast(), size as usize),
        );
        state.count += 1;
    }
}

impl LibbpfPerf {
    /// `perf_buffer__new` on `map` with [`PERF_PAGES`] pages per CPU.
    pub fn new(map: &Map) -> Self {
        let mut state = Box::<PerfState>::default();
        let ctx: *mut PerfState = &mut *state;
        // SAFETY: a perf event array's fd, callbacks of the right types, and
        // a context that outlives the perf buffer (dropped after it).
        let pb = unsafe {
            sys::perf_buffer__new(
                map.as_fd().as_raw_fd(),
                PERF_PAGES as _,
                Some(perf_sample),
                None,
                ctx.cast(),
                std::ptr::null(),
            )
        };
        let pb = NonNull::new(pb).expect("perf_buffer__new");
        LibbpfPerf { pb, state }
    }
}

impl Contender for LibbpfPerf {
    fn name(&self) -> &'static str {
        "libbpf perf_buffer__consume (C)"
    }
    fn ring(&self) -> u64 {
        1
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        self.state.count = 0;
        // SAFETY: a live perf buffer.
        let ret = unsafe { sys::perf_buffer__consume(self.pb.as_ptr()) };
        assert!(ret >= 0, "perf_buffer__consume: {ret}");
        *acc = acc.wrapping_add(self.state.acc);
        self.state.count
    }
}

impl Drop for LibbpfPerf {
    fn drop(&mut self) {
        // SAFETY: created by perf_buffer__new, freed once.
        unsafe { sys::perf_buffer__free(self.pb.as_ptr()) };
    }
}

/// libbpf-rs: `PerfBuffer::consume` with Rust closures.
pub struct LibbpfRsPerf<'a> {
    pb: libbpf_rs::PerfBuffer<'a>,
    count: &'a Cell<usize>,
    acc: &'a Cell<u64>,
}

impl<'a> LibbpfRsPerf<'a> {
    /// A `PerfBuffer` over `map` with [`PERF_PAGES`] pages per CPU.
    pub fn new(map: &'a libbpf_rs::MapHandle, count: &'a Cell<usize>, acc: &'a Cell<u64>) -> Self {
        let pb = libbpf_rs::PerfBufferBuilder::new(map)
            .pages(PERF_PAGES)
            .sample_cb(move |_cpu, data: &[u8]| {
                let mut a = acc.get();
                consume(&mut a, data);
                acc.set(a);
                count.set(count.get() + 1);
            })
            .build()
            .expect("PerfBufferBuilder::build");
        LibbpfRsPerf { pb, count, acc }
    }
}

impl Contender for LibbpfRsPerf<'_> {
    fn name(&self) -> &'static str {
        "libbpf-rs PerfBuffer::consume"
    }
    fn ring(&self) -> u64 {
        2
    }
    fn drain(&mut self, acc: &mut u64) -> usize {
        self.count.set(0);
        self.pb.consume().expect("PerfBuffer::consume");
        *acc = acc.wrapping_add(self.acc.get());
        self.count.get()
    }
}
