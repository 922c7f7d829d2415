//! The tokio readers against the kernel (feature `tokio`, run as root):
//! records written by `tests/bpf/ringbuf.bpf.o` and `perf.bpf.o` from
//! another thread, a few at a time, wake the async readers and arrive in
//! order. These live here rather than in `tests/` because that crate does
//! not enable the feature.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;

use crate::perf::{online_cpus, AsyncPerfReader, PerfOptions, PerfReader};
use crate::ringbuf::{AsyncRingBufPoller, AsyncRingBufReader, RingBufPoller, RingBufReader};
use crate::{Object, OpenObject, Program};

fn load(name: &str) -> Object {
    let path = format!("{}/../tests/bpf/{name}.bpf.o", env!("CARGO_MANIFEST_DIR"));
    OpenObject::from_file(&path)
        .and_then(|o| o.load())
        .expect("load (as root)")
}

/// Runs a `raw_tp` program once on `cpu` with `args` as its context
/// (padded with zeros to the twelve arguments a raw tracepoint may have).
fn run_on(prog: &Program, cpu: u32, args: &[u64]) {
    let mut ctx = [0u8; 12 * 8];
    for (slot, arg) in ctx.chunks_exact_mut(8).zip(args) {
        slot.copy_from_slice(&arg.to_ne_bytes());
    }
    prog.test_run_on_cpu(Some(&ctx), cpu).expect("test run");
}

/// Runs `future` on a current-thread runtime, failing after 60 s instead of
/// hanging when a wakeup is lost.
fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(60), future).await })
        .expect("the async reader was never woken")
}

/// Writes 24-byte records (sequence numbers from 0) with `produce` from
/// this thread, `per_batch` at a time, pausing between batches so that the
/// reader runs dry and must be woken. `phases` counts the batches of each
/// phase of the reader; before each phase after the first, the producer
/// waits for the reader to say the previous one is done, so that a phase
/// that reads all there is (`drain`) never reads the next one's records.
fn produce_slowly(
    prog: &Program,
    cpu: u32,
    args: impl Fn(u64, u64) -> Vec<u64>,
    per_batch: u64,
    phases: &[u64],
    phase_done: std::sync::mpsc::Receiver<()>,
) {
    let mut batch = 0;
    for (phase, &batches) in phases.iter().enumerate() {
        if phase > 0 {
            phase_done.recv().expect("the reader ended a phase");
        }
        for _ in 0..batches {
            run_on(prog, cpu, &args(per_batch, batch * per_batch));
            batch += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn seq_of(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes[..8].try_into().unwrap())
}

async fn next_item<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

#[test]
fn async_ring_reader_is_woken_for_each_batch() {
    let obj = load("ringbuf");
    let produce = obj.program("produce").unwrap();
    let cpu = online_cpus().unwrap()[0];
    let (phase_done, next_phase) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let reader = RingBufReader::new(&obj.map("events").unwrap()).unwrap();
        let ring_args = |count, first| vec![count, 24, first, 0, 0];
        let produce = &produce;
        s.spawn(move || produce_slowly(produce, cpu, ring_args, 10, &[15, 10, 5], next_phase));
        block_on(async move {
            let mut reader = AsyncRingBufReader::new(reader).unwrap();
            for expected in 0..150 {
                let words = reader.next_as::<[u64; 3]>().await.unwrap();
                assert_eq!(words[0], expected);
            }
            phase_done.send(()).unwrap();
            let mut expected = 150;
            while expected < 250 {
                let n = reader
                    .drain(|record| {
                        assert_eq!(record.read_prefix::<u64>(), Some(expected));
                        expected += 1;
                    })
                    .await
                    .unwrap();
                assert!(n > 0);
            }
            assert_eq!(expected, 250, "drain read only this phase's records");
            phase_done.send(()).unwrap();
            // As a stream: owned copies.
            for expected in 250..300 {
                let record = next_item(&mut reader).await.unwrap().unwrap();
                assert_eq!((record.len(), seq_of(&record)), (24, expected));
            }
            assert!(!reader.get_mut().has_next());
        });
    });
}

#[test]
fn async_poller_reads_two_rings() {
    let obj = load("ringbuf");
    let produce = obj.program("produce").unwrap();
    let cpu = online_cpus().unwrap()[0];
    let mut poller = RingBufPoller::new().unwrap();
    poller
        .add(RingBufReader::new(&obj.map("events").unwrap()).unwrap())
        .unwrap();
    poller
        .add(RingBufReader::new(&obj.map("small").unwrap()).unwrap())
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for batch in 0..20 {
                run_on(&produce, cpu, &[5, 24, batch * 5, batch % 2, 0]);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        block_on(async move {
            let mut poller = AsyncRingBufPoller::new(poller).unwrap();
            let mut seen = [Vec::new(), Vec::new()];
            while seen[0].len() + seen[1].len() < 100 {
                let (ring, record) = next_item(&mut poller).await.unwrap().unwrap();
                seen[ring].push(seq_of(&record));
            }
            let even: Vec<u64> = (0..20)
                .filter(|b| b % 2 == 0)
                .flat_map(|b| b * 5..b * 5 + 5)
                .collect();
            let odd: Vec<u64> = (0..20)
                .filter(|b| b % 2 == 1)
                .flat_map(|b| b * 5..b * 5 + 5)
                .collect();
            assert_eq!(seen, [even, odd]);
        });
    });
}

#[test]
fn async_perf_reader_is_woken_for_each_batch() {
    let obj = load("perf");
    let produce = obj.program("produce").unwrap();
    let cpu = *online_cpus().unwrap().last().unwrap();
    let reader =
        PerfReader::with_options(&obj.map("events").unwrap(), &PerfOptions::new().cpus([cpu]))
            .unwrap();
    let (phase_done, next_phase) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let perf_args = |count, first| vec![count, 24, first];
        let produce = &produce;
        s.spawn(move || produce_slowly(produce, cpu, perf_args, 10, &[10, 10, 10], next_phase));
        block_on(async move {
            let mut reader = AsyncPerfReader::new(reader).unwrap();
            for expected in 0..100 {
                let words = reader.next_as::<[u64; 3]>().await.unwrap();
                assert_eq!(words[0], expected);
            }
            phase_done.send(()).unwrap();
            let mut expected = 100;
            while expected < 200 {
                reader
                    .drain(|from, sample| {
                        assert_eq!((from, seq_of(sample)), (cpu, expected));
                        expected += 1;
                    })
                    .await
                    .unwrap();
            }
            assert_eq!(expected, 200, "drain read only this phase's samples");
            phase_done.send(()).unwrap();
            for expected in 200..300 {
                let (from, sample) = next_item(&mut reader).await.unwrap().unwrap();
                assert_eq!((from, seq_of(&sample)), (cpu, expected));
            }
            assert_eq!(reader.get_ref().lost_total(), 0);
        });
    });
}

#[test]
fn async_readers_need_a_runtime() {
    let obj = load("ringbuf");
    let reader = RingBufReader::new(&obj.map("events").unwrap()).unwrap();
    let err = AsyncRingBufReader::new(reader).unwrap_err();
    assert_eq!(
        err.to_string(),
        "registering ring buffer `events` with tokio"
    );
    let source = std::error::Error::source(&err)
        .expect("a source")
        .to_string();
    assert!(source.contains("not inside a tokio runtime"), "{source}");
}
