//! The perf event array reader against the kernel: samples written by
//! `perf.bpf.o` (run with BPF_PROG_TEST_RUN on a chosen CPU, or on
//! getppid(2)) arrive per CPU in order, complete and intact, including those
//! that wrap around the end of a ring; an overflowing ring reports its loss;
//! the wakeup options reach the kernel; a dropped reader leaves nothing
//! behind. The producer loops with `bpf_loop` from 5.17 and with a bounded
//! loop of its own before.

use std::collections::BTreeMap;
use std::time::Duration;

use ebpf_skeleton::perf::{online_cpus, PerfEvent, PerfOptions, PerfReader, Wakeup};
use ebpf_skeleton::{ebpf_skeleton, Error, MapType, Pod, UpdateFlags};
use ebpf_skeleton_tests::kernel::{assert_bpf_loop_refused, kernel, Feature};
use ebpf_skeleton_tests::{
    check_record_data, checksum, getppid_n, in_own_process, mappings, open_fds, run_on, seq_of, tid,
};

ebpf_skeleton!("../bpf/perf.bpf.o");

/// `stats` keys, as in perf.bpf.c.
const WRITTEN: u32 = 0;
const DROPPED: u32 = 1;

/// Loads the object with the producer this kernel runs: that of
/// `bpf_loop` (5.17), or before it the bounded loop.
fn load() -> perf::Objects {
    let bpf_loop = kernel().has(Feature::BpfLoop);
    let mut specs = perf::Specs::new().expect("open perf.bpf.o");
    specs.programs.produce.autoload = bpf_loop;
    specs.programs.produce_bounded.autoload = !bpf_loop;
    specs.load().expect("load perf.bpf.o")
}

/// The bounded producer's limit (`MAX_BOUNDED` of perf.bpf.c).
const MAX_BOUNDED: u64 = 1024;

/// Writes `count` samples of `size` bytes numbered from `first` on `cpu`.
fn produce(objs: &perf::Objects, cpu: u32, count: u64, size: u64, first: u64) {
    let program = if kernel().has(Feature::BpfLoop) {
        &objs.programs.produce
    } else {
        assert!(count <= MAX_BOUNDED, "{count} samples in one run");
        &objs.programs.produce_bounded
    };
    run_on(program, cpu, &[count, size, first]);
}

/// The per-CPU counter `key` of `cpu`.
fn stat(objs: &perf::Objects, key: u32, cpu: u32) -> u64 {
    let values = objs.maps.stats.get(key).unwrap().unwrap();
    values.get(cpu as usize).expect("a possible CPU")
}

/// The length of a sample of `size` bytes as the kernel hands it out:
/// padded so that its u32 length and the data end 8-byte aligned.
fn padded(size: usize) -> usize {
    (size + 4).next_multiple_of(8) - 4
}

/// Checks one sample: its padded size, and its data as records.h writes
/// it. (The padding is not checked: the kernel skips it, leaving whatever an
/// earlier record left there.)
fn check_sample(bytes: &[u8], size: usize, seq: u64) {
    assert_eq!(bytes.len(), padded(size), "sample {seq}: size");
    check_record_data(&bytes[..size], seq, "sample");
}

#[test]
fn samples_arrive_per_cpu_in_order_complete_and_intact() {
    if !kernel().has(Feature::BpfLoop) {
        // As built, the object's producer calls bpf_loop.
        assert_bpf_loop_refused(perf::Objects::load(), "perf", "produce");
    }
    let objs = load();
    let cpus = online_cpus().unwrap();
    let mut reader = objs.maps.events.reader().expect("reader");
    assert_eq!(reader.cpus(), cpus);
    assert_eq!(reader.name(), "events");
    assert!(reader.next().is_none());

    let mut seen: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for size in [16, 64, 256] {
        for &cpu in &cpus {
            produce(&objs, cpu, 300, size as u64, u64::from(cpu) << 32);
        }
        // Half through the lending API, half through drain.
        for _ in 0..150 * cpus.len() {
            let Some(PerfEvent::Sample { cpu, data }) = reader.next() else {
                panic!("expected a sample");
            };
            check_sample(data, size, seq_of(data));
            seen.entry(cpu).or_default().push(seq_of(data));
        }
        let n = reader.drain(|cpu, data| {
            check_sample(data, size, seq_of(data));
            seen.entry(cpu).or_default().push(seq_of(data));
        });
        assert_eq!(n, 150 * cpus.len());
        assert!(reader.next().is_none());
    }
    for &cpu in &cpus {
        // Each CPU's samples came from its own ring, in the order written.
        let expected: Vec<u64> = (0..900).map(|i| (u64::from(cpu) << 32) + i % 300).collect();
        assert_eq!(seen[&cpu], expected, "CPU {cpu}");
        assert_eq!(stat(&objs, WRITTEN, cpu), 900);
        assert_eq!(stat(&objs, DROPPED, cpu), 0);
        assert_eq!(reader.lost(cpu), Some(0));
        assert_eq!(reader.pending(cpu), Some(0));
    }
}

#[test]
fn samples_wrapping_the_end_of_a_ring_arrive_whole() {
    let objs = load();
    let cpu = *online_cpus().unwrap().last().unwrap();
    let options = PerfOptions::new().pages(1).cpus([cpu]);
    let mut reader = objs.maps.events.reader_with(&options).expect("reader");

    // A 96-byte sample is a 112-byte record (header, u32 length, data and
    // padding); 4096 is no multiple of 112, so records keep straddling the
    // end of the one-page ring, which is not mapped twice: the reader must
    // piece them together. 40 rounds of 30 go around the ring 32 times.
    let (size, per_round, rounds) = (96usize, 30u64, 40u64);
    let mut seq = 0;
    for round in 0..rounds {
        produce(&objs, cpu, per_round, size as u64, round * per_round);
        if round % 2 == 0 {
            while let Some((from, data)) = reader.next_sample() {
                assert_eq!(from, cpu);
                check_sample(data, size, seq);
                seq += 1;
            }
        } else {
            reader.drain(|_, data| {
                check_sample(data, size, seq);
                seq += 1;
            });
        }
        assert_eq!(seq, (round + 1) * per_round, "round {round}");
    }
    assert!(seq * 112 > 30 * 4096);
    assert_eq!(reader.lost_total(), 0);
    assert_eq!(stat(&objs, DROPPED, cpu), 0);
}

#[test]
fn samples_of_mixed_sizes_arrive_in_one_batch() {
    let objs = load();
    let cpu = online_cpus().unwrap()[0];
    let options = PerfOptions::new().pages(1).cpus([cpu]);
    let mut reader = objs.maps.events.reader_with(&options).expect("reader");

    // Runs of equal samples broken by other sizes, around the one-page ring
    // many times; read alternately sample by sample and by drain.
    let sizes = [16, 64, 16, 24, 96, 24, 24, 40];
    let mut seq = 0;
    for round in 0..40 {
        let mut expected = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            let n = 1 + (i as u64 * 7 + round) % 4;
            produce(&objs, cpu, n, size as u64, seq);
            expected.extend((seq..seq + n).map(|s| (s, size)));
            seq += n;
        }
        let mut got = Vec::new();
        if round % 2 == 0 {
            while let Some(event) = reader.next() {
                match event {
                    PerfEvent::Sample { data, .. } => got.push(data.to_vec()),
                    lost => panic!("round {round}: {lost:?}"),
                }
            }
        } else {
            reader.drain(|_, data| got.push(data.to_vec()));
        }
        assert_eq!(got.len(), expected.len(), "round {round}");
        for (sample, &(s, size)) in got.iter().zip(&expected) {
            check_sample(sample, size, s);
        }
    }
    assert_eq!(reader.lost_total(), 0);
    assert_eq!(stat(&objs, DROPPED, cpu), 0);
}

#[test]
fn an_overflowing_ring_reports_its_loss() {
    let objs = load();
    let cpu = online_cpus().unwrap()[0];
    let options = PerfOptions::new().pages(1).cpus([cpu]);
    let mut reader = objs.maps.events.reader_with(&options).expect("reader");

    // 200 records of 112 bytes into a 4096-byte ring: 36 fit.
    produce(&objs, cpu, 200, 96, 0);
    let (written, dropped) = (stat(&objs, WRITTEN, cpu), stat(&objs, DROPPED, cpu));
    assert_eq!(written + dropped, 200);
    assert_eq!(written, 4096 / 112);

    let mut seq = 0;
    let n = reader.drain(|_, data| {
        check_sample(data, 96, seq);
        seq += 1;
    });
    assert_eq!(n as u64, written);

    // The kernel writes its loss report before the next sample that fits.
    produce(&objs, cpu, 1, 96, 1000);
    assert_eq!(
        reader.next(),
        Some(PerfEvent::Lost {
            cpu,
            count: dropped
        })
    );
    match reader.next() {
        Some(PerfEvent::Sample { cpu: from, data }) => {
            assert_eq!(from, cpu);
            check_sample(data, 96, 1000);
        }
        other => panic!("expected sample 1000, got {other:?}"),
    }
    assert!(reader.next().is_none());
    assert_eq!(reader.lost(cpu), Some(dropped));
    assert_eq!(reader.lost_total(), dropped);
    assert_eq!(reader.lost_per_cpu(), [(cpu, dropped)]);

    // Overflow again: `drain` counts the report without handing it out.
    produce(&objs, cpu, 100, 96, 2000);
    let dropped_again = stat(&objs, DROPPED, cpu) - dropped;
    assert!(dropped_again > 0);
    reader.drain(|_, _| {});
    produce(&objs, cpu, 1, 96, 3000);
    let mut last = 0;
    assert_eq!(reader.drain(|_, data| last = seq_of(data)), 1);
    assert_eq!(last, 3000);
    assert_eq!(reader.lost(cpu), Some(dropped + dropped_again));
}

#[test]
fn typed_reads_allow_only_the_kernels_padding() {
    let objs = load();
    let cpu = online_cpus().unwrap()[0];
    let options = PerfOptions::new().cpus([cpu]);
    let mut reader = objs.maps.events.reader_with(&options).unwrap();
    produce(&objs, cpu, 3, 24, 5);

    // 24 bytes come with 4 bytes of padding: a 24-byte type reads them.
    let words: [u64; 3] = reader.next_as().unwrap().expect("sample 5");
    assert_eq!(words[0], 5);
    assert_eq!(words[2], checksum(&words[..2]));
    let err = reader.next_as::<[u64; 2]>().unwrap_err();
    assert!(
        matches!(&err, Error::RecordSize { expected: 16, actual: 28, map, .. } if map == "events"),
        "{err:?}"
    );
    // Not lost: the refused sample comes again, for a read of its size or
    // a raw one (a header and its tail), then the next.
    let (from, sample) = reader.next_sample().expect("sample 6 again");
    assert_eq!(from, cpu);
    let (header, tail) = u64::read_from_prefix(sample).unwrap();
    assert_eq!((header, tail.len()), (6, 20));
    assert_eq!(reader.next_as::<[u64; 3]>().unwrap().map(|w| w[0]), Some(7));
    assert_eq!(reader.next_as::<[u64; 3]>().unwrap(), None);
    // Refused and then drained: still there.
    produce(&objs, cpu, 1, 24, 8);
    assert!(reader.next_as::<[u64; 2]>().is_err());
    let mut drained = Vec::new();
    reader.drain(|_, sample| drained.push(seq_of(sample)));
    assert_eq!(drained, [8]);
}

#[test]
fn bad_maps_and_options_are_refused() {
    let objs = load();
    let err = PerfReader::new(objs.maps.stats.map()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MapKind {
                expected: [MapType::PERF_EVENT_ARRAY],
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    let words = ["`stats`", "percpu_array", "perf_event_array"];
    assert!(words.iter().all(|w| message.contains(w)), "{message}");

    let err = objs
        .maps
        .events
        .reader_with(&PerfOptions::new().pages(3))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "reading map `events`: 3 pages per CPU is not a power of two (up to 2^20)"
    );
    let slots = objs.maps.events.info().max_entries;
    let err = objs
        .maps
        .events
        .reader_with(&PerfOptions::new().cpus([slots]))
        .unwrap_err();
    assert!(matches!(err, Error::ReaderOption { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("CPU {slots} has no slot")),
        "{err}"
    );
}

#[test]
fn wakeup_after_a_number_of_events() {
    let objs = load();
    let cpu = online_cpus().unwrap()[0];
    let options = PerfOptions::new().cpus([cpu]).wakeup(Wakeup::Events(4));
    let mut reader = objs.maps.events.reader_with(&options).unwrap();
    reader.wait_wakeup(Some(Duration::ZERO)).unwrap();

    produce(&objs, cpu, 3, 16, 0);
    assert_eq!(
        reader
            .wait_wakeup(Some(Duration::from_millis(200)))
            .unwrap(),
        0,
        "3 of 4"
    );
    produce(&objs, cpu, 1, 16, 3);
    assert_eq!(
        reader.wait_wakeup(Some(Duration::from_secs(10))).unwrap(),
        1,
        "4 of 4"
    );
    assert_eq!(reader.drain(|_, _| {}), 4);
}

#[test]
fn wakeup_after_a_number_of_bytes() {
    let objs = load();
    let cpu = online_cpus().unwrap()[0];
    let options = PerfOptions::new()
        .pages(2)
        .cpus([cpu])
        .wakeup(Wakeup::Bytes(2048));
    let mut reader = objs.maps.events.reader_with(&options).unwrap();
    reader.wait_wakeup(Some(Duration::ZERO)).unwrap();

    // 16-byte samples are 32-byte records: 20 are 640 bytes, 80 are 2560.
    produce(&objs, cpu, 20, 16, 0);
    assert_eq!(
        reader
            .wait_wakeup(Some(Duration::from_millis(200)))
            .unwrap(),
        0,
        "640 bytes"
    );
    produce(&objs, cpu, 60, 16, 20);
    assert_eq!(
        reader.wait_wakeup(Some(Duration::from_secs(10))).unwrap(),
        1,
        "2560 bytes"
    );
    let mut seq = 0;
    reader.drain(|_, data| {
        check_sample(data, 16, seq);
        seq += 1;
    });
    assert_eq!(seq, 80);
}

#[test]
fn poll_waits_for_samples_from_syscalls() {
    let objs = load();
    let _link = objs.programs.on_getppid.attach().expect("attach");
    let mut reader = objs.maps.events.reader().expect("reader");
    assert!(!reader.poll(Some(Duration::ZERO)).unwrap());
    assert!(!reader.poll(Some(Duration::from_millis(20))).unwrap());

    const CALLS: u64 = 2000;
    let target = &objs.maps.target;
    let mut seqs = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            target.set(0, &tid(), UpdateFlags::ANY).unwrap();
            for _ in 0..CALLS {
                getppid_n(1);
                std::thread::yield_now();
            }
        });
        // The thread may move between CPUs: order holds per CPU only.
        let mut last: BTreeMap<u32, u64> = BTreeMap::new();
        while (seqs.len() as u64) < CALLS {
            assert!(reader.poll(Some(Duration::from_secs(30))).unwrap(), "woken");
            reader.drain(|cpu, data| {
                let seq = seq_of(data);
                check_sample(data, 24, seq);
                if let Some(&prev) = last.get(&cpu) {
                    assert!(seq > prev, "CPU {cpu}: {seq} after {prev}");
                }
                last.insert(cpu, seq);
                seqs.push(seq);
            });
        }
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (0..CALLS).collect::<Vec<_>>());
    assert_eq!(reader.lost_total(), 0);
}

#[test]
fn a_reader_dropped_mid_stream_leaves_nothing_behind() {
    in_own_process("a_reader_dropped_mid_stream_leaves_nothing_behind", || {
        let objs = load();
        let cpus = online_cpus().unwrap();
        let (fds, maps) = (open_fds(), mappings());

        let mut reader = objs.maps.events.reader().unwrap();
        // One perf event per CPU, the map's and the epoll's descriptors.
        assert_eq!(open_fds(), fds + cpus.len() + 2);
        assert!(mappings() >= maps + cpus.len());
        for &cpu in &cpus {
            produce(&objs, cpu, 50, 32, 0);
        }
        check_sample(reader.next_sample().unwrap().1, 32, 0);
        drop(reader);
        assert_eq!((open_fds(), mappings()), (fds, maps));

        // The events left the map too: the program finds no ring to write to.
        let before = (stat(&objs, WRITTEN, cpus[0]), stat(&objs, DROPPED, cpus[0]));
        produce(&objs, cpus[0], 1, 32, 0);
        assert_eq!(
            (stat(&objs, WRITTEN, cpus[0]), stat(&objs, DROPPED, cpus[0])),
            (before.0, before.1 + 1)
        );
    });
}
