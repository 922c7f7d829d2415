//! The ring buffer reader against the kernel: records written by
//! `ringbuf.bpf.o` (run with BPF_PROG_TEST_RUN, or on getppid(2)) arrive in
//! order, complete and intact, across the end of the ring, past discarded
//! records, through an overflow, and a dropped reader leaves nothing behind.
//! Ring buffers are 5.8; the producers loop with `bpf_loop` from 5.17 and
//! with a bounded loop of their own before.

use std::collections::BTreeMap;
use std::time::Duration;

use ebpf_skeleton::ringbuf::{Record, RingBufPoller, RingBufReader};
use ebpf_skeleton::{ebpf_skeleton, Error, MapType, Program, UpdateFlags};
use ebpf_skeleton_tests::kernel::{assert_bpf_loop_refused, kernel, Feature};
use ebpf_skeleton_tests::{
    check_record_data, checksum, eventually, getppid_n, in_own_process, map_exists, mappings,
    open_fds, run, seq_of, tid,
};

ebpf_skeleton!("../bpf/ringbuf.bpf.o");

/// `stats` keys, as in ringbuf.bpf.c.
const WRITTEN: u32 = 0;
const DROPPED: u32 = 1;
/// `produce`'s rings.
const EVENTS: u64 = 0;
const SMALL: u64 = 1;

/// Loads the object with the producers this kernel runs: those of
/// `bpf_loop` (5.17), or before it the bounded loops.
fn load() -> ringbuf::Objects {
    let bpf_loop = kernel().has(Feature::BpfLoop);
    let mut specs = ringbuf::Specs::new().expect("open ringbuf.bpf.o");
    specs.programs.produce.autoload = bpf_loop;
    specs.programs.produce_discards.autoload = bpf_loop;
    specs.programs.produce_bounded.autoload = !bpf_loop;
    specs.programs.produce_discards_bounded.autoload = !bpf_loop;
    specs.load().expect("load ringbuf.bpf.o")
}

/// The bounded producers' limit (`MAX_BOUNDED` of ringbuf.bpf.c).
const MAX_BOUNDED: u64 = 1024;

/// The producer of `count` records this kernel loaded.
fn producer(objs: &ringbuf::Objects, count: u64) -> &Program {
    if kernel().has(Feature::BpfLoop) {
        &objs.programs.produce
    } else {
        assert!(count <= MAX_BOUNDED, "{count} records in one run");
        &objs.programs.produce_bounded
    }
}

/// Writes `count` records of `size` bytes numbered from `first` into `ring`.
fn produce(objs: &ringbuf::Objects, count: u64, size: u64, first: u64, ring: u64) {
    run(producer(objs, count), &[count, size, first, ring, 0]);
}

/// Writes `count` 16-byte records numbered from `first` through
/// reserve/commit, discarding the odd ones.
fn produce_discards(objs: &ringbuf::Objects, count: u64, first: u64) {
    let program = if kernel().has(Feature::BpfLoop) {
        &objs.programs.produce_discards
    } else {
        assert!(count <= MAX_BOUNDED, "{count} records in one run");
        &objs.programs.produce_discards_bounded
    };
    run(program, &[count, first]);
}

fn stat(objs: &ringbuf::Objects, key: u32) -> u64 {
    objs.maps.stats.get(key).unwrap().unwrap()
}

/// Checks one record: its size, and its data as records.h writes it.
fn check_record(record: Record<'_>, size: usize, seq: u64) {
    assert_eq!(record.len(), size, "record {seq}: size");
    check_record_data(&record.to_vec(), seq, "record");
}

#[test]
fn records_arrive_in_order_complete_and_intact() {
    if !kernel().has(Feature::BpfLoop) {
        // As built, the object's producers call bpf_loop.
        assert_bpf_loop_refused(ringbuf::Objects::load(), "ringbuf", "produce");
    }
    let objs = load();
    let mut reader = objs.maps.events.reader().expect("reader");
    assert_eq!(reader.capacity(), 256 * 1024);
    assert_eq!(reader.name(), "events");
    assert!(reader.next().is_none(), "a new ring is empty");

    let mut seq = 0;
    for size in [16, 24, 64, 136, 256] {
        produce(&objs, 500, size as u64, seq, EVENTS);
        assert_eq!(reader.pending(), 500 * (size + 8));

        // Half through the lending API, half through drain.
        for _ in 0..250 {
            let record = reader.next().expect("a record");
            check_record(record, size, seq);
            seq += 1;
        }
        let drained = reader.drain(|record| {
            check_record(record, size, seq);
            seq += 1;
        });
        assert_eq!(drained, 250);
        assert!(reader.next().is_none());
        assert_eq!(reader.pending(), 0);
    }
    assert_eq!(stat(&objs, WRITTEN), seq);
    assert_eq!(stat(&objs, DROPPED), 0);
}

#[test]
fn records_wrapping_the_end_of_the_ring_arrive_whole() {
    let objs = load();
    let mut reader = objs.maps.small.reader().expect("reader");
    assert_eq!(reader.capacity(), 4096);

    // 40-byte records take 48 bytes with their header; 4096 is no multiple
    // of 48, so every few rounds a record starts before the end of the ring
    // and ends after it. 60 rounds of 50 records go around the ring 35 times.
    let (size, per_round, rounds) = (40usize, 50u64, 60u64);
    let mut seq = 0;
    for round in 0..rounds {
        produce(&objs, per_round, size as u64, round * per_round, SMALL);
        if round % 2 == 0 {
            while let Some(record) = reader.next() {
                check_record(record, size, seq);
                seq += 1;
            }
        } else {
            reader.drain(|record| {
                check_record(record, size, seq);
                seq += 1;
            });
        }
        assert_eq!(seq, (round + 1) * per_round, "round {round}");
    }
    assert!(seq as usize * (size + 8) > 30 * reader.capacity());
    assert_eq!(stat(&objs, DROPPED), 0);
}

#[test]
fn records_of_mixed_sizes_arrive_in_one_batch() {
    let objs = load();
    let mut reader = objs.maps.small.reader().expect("reader");

    // Runs of equal records broken by other sizes, around the one-page ring
    // many times; read alternately record by record and by drain.
    let sizes = [16, 64, 16, 24, 256, 24, 24, 136, 40];
    let mut seq = 0;
    let mut next = 0;
    for round in 0..40 {
        let mut expected = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            let n = 1 + (i as u64 * 7 + round) % 5;
            produce(&objs, n, size as u64, seq, SMALL);
            expected.extend((seq..seq + n).map(|s| (s, size)));
            seq += n;
        }
        let mut got = Vec::new();
        if round % 2 == 0 {
            while let Some(record) = reader.next() {
                got.push(record.to_vec());
            }
        } else {
            reader.drain(|record| got.push(record.to_vec()));
        }
        assert_eq!(got.len(), expected.len(), "round {round}");
        for (record, &(s, size)) in got.iter().zip(&expected) {
            assert_eq!(record.len(), size, "record {s}: size");
            check_record_data(record, s, "record");
        }
        next += got.len() as u64;
    }
    assert_eq!(next, seq);
    assert_eq!(stat(&objs, DROPPED), 0);
}

#[test]
fn discarded_records_are_skipped() {
    let objs = load();
    let mut reader = objs.maps.events.reader().expect("reader");
    // Odd sequence numbers are reserved, then discarded.
    produce_discards(&objs, 1000, 0);
    assert_eq!(
        reader.pending(),
        1000 * 24,
        "discarded records take room until read"
    );

    let mut expected = 0;
    while let Some([seq, inverted]) = reader.next_as::<[u64; 2]>().expect("16-byte records") {
        assert_eq!((seq, inverted), (expected, !expected));
        expected += 2;
    }
    assert_eq!(expected, 1000);
    assert_eq!(reader.pending(), 0, "discarded records are consumed too");

    // A ring holding only discarded records reads as empty.
    produce_discards(&objs, 1, 1);
    assert!(!reader.has_next());
    assert!(reader.next().is_none());
    assert_eq!(reader.pending(), 0);
}

#[test]
fn typed_reads_check_the_record_size() {
    let objs = load();
    let mut reader = objs.maps.events.reader().expect("reader");
    produce(&objs, 3, 24, 7, EVENTS);

    let err = reader.next_as::<[u64; 2]>().unwrap_err();
    assert!(
        matches!(&err, Error::RecordSize { expected: 16, actual: 24, map, .. } if map == "events"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "a record of 24 bytes from map `events` cannot be read as `[u64; 2]`, which is 16 bytes"
    );
    // The record was not consumed: it is still there, whole, for a read of
    // the right size or a raw one.
    let record = reader.next().expect("record 7 is still there");
    assert_eq!(record.len(), 24);
    assert_eq!(record.read_prefix::<u64>(), Some(7));
    let words = reader.next_as::<[u64; 3]>().unwrap().expect("record 8");
    assert_eq!(words[0], 8);
    assert_eq!(words[2], checksum(&words[..2]));
    let header: u64 = reader.next().expect("record 9").read_prefix().unwrap();
    assert_eq!(header, 9);
    assert_eq!(reader.next_as::<[u64; 3]>().unwrap(), None);
}

#[test]
fn a_map_of_another_kind_is_refused() {
    let objs = load();
    let err = RingBufReader::new(objs.maps.stats.map()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MapKind {
                expected: [MapType::RINGBUF],
                actual: MapType::ARRAY,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    let words = ["`stats`", "array", "ringbuf"];
    assert!(words.iter().all(|w| message.contains(w)), "{message}");
}

#[test]
fn an_overflowing_ring_drops_the_excess_and_goes_on() {
    let objs = load();
    let mut reader = objs.maps.small.reader().expect("reader");

    // 200 records of 48 bytes into 4096: at most 85 fit, the rest find no
    // room and the program counts them.
    produce(&objs, 200, 40, 0, SMALL);
    let (written, dropped) = (stat(&objs, WRITTEN), stat(&objs, DROPPED));
    assert_eq!(written + dropped, 200);
    assert_eq!(written, 4096 / 48, "the ring holds exactly what fits");

    // What was written arrives whole; what was dropped never appears.
    let mut seq = 0;
    let n = reader.drain(|record| {
        check_record(record, 40, seq);
        seq += 1;
    });
    assert_eq!(n as u64, written);
    assert!(reader.next().is_none());

    // Read, the ring takes records again.
    produce(&objs, 50, 40, 1000, SMALL);
    assert_eq!(stat(&objs, DROPPED), dropped);
    let mut seq = 1000;
    assert_eq!(
        reader.drain(|record| {
            check_record(record, 40, seq);
            seq += 1;
        }),
        50
    );
}

#[test]
fn poll_waits_for_records_from_syscalls() {
    let objs = load();
    let _link = objs.programs.on_getppid.attach().expect("attach");
    let mut reader = objs.maps.events.reader().expect("reader");
    assert!(!reader.poll(Some(Duration::ZERO)).unwrap(), "nothing yet");
    assert!(
        !reader.poll(Some(Duration::from_millis(20))).unwrap(),
        "still nothing"
    );

    const CALLS: u64 = 2000;
    let target = &objs.maps.target;
    std::thread::scope(|s| {
        s.spawn(|| {
            target.set(0, &tid(), UpdateFlags::ANY).unwrap();
            for _ in 0..CALLS {
                getppid_n(1);
                std::thread::yield_now();
            }
        });
        let mut expected = 0;
        while expected < CALLS {
            assert!(
                reader.poll(Some(Duration::from_secs(30))).unwrap(),
                "woken for record {expected}"
            );
            while let Some([seq, inverted]) = reader.next_as::<[u64; 2]>().unwrap() {
                assert_eq!((seq, inverted), (expected, !expected));
                expected += 1;
            }
        }
    });
    assert!(!reader.poll(Some(Duration::from_millis(20))).unwrap());
    assert_eq!(stat(&objs, WRITTEN), CALLS);
}

#[test]
fn a_poller_reads_several_rings() {
    let objs = load();
    let mut poller = RingBufPoller::new().unwrap();
    let events = poller.add(objs.maps.events.reader().unwrap()).unwrap();
    let small = poller.add(objs.maps.small.reader().unwrap()).unwrap();
    assert_eq!((events, small, poller.len()), (0, 1, 2));
    assert_eq!(poller.reader(small).unwrap().name(), "small");
    assert!(!poller.poll(Some(Duration::from_millis(10))).unwrap());

    produce(&objs, 30, 64, 0, EVENTS);
    produce(&objs, 20, 32, 100, SMALL);
    assert!(poller.poll(Some(Duration::from_secs(5))).unwrap());

    let mut seen: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    // A few through `next`, the rest through `drain`.
    for _ in 0..10 {
        let (ring, record) = poller.next().expect("a record");
        let size = if ring == events { 64 } else { 32 };
        let seq = seq_of(&record.to_vec());
        check_record(record, size, seq);
        seen.entry(ring).or_default().push(seq);
    }
    let n = poller.drain(|ring, record| {
        let size = if ring == events { 64 } else { 32 };
        let seq = seq_of(&record.to_vec());
        check_record(record, size, seq);
        seen.entry(ring).or_default().push(seq);
    });
    assert_eq!(n, 40);
    assert_eq!(seen[&events], (0..30).collect::<Vec<_>>());
    assert_eq!(seen[&small], (100..120).collect::<Vec<_>>());
    assert!(!poller.has_next());

    // The readers come back out, positions kept.
    produce(&objs, 1, 16, 500, SMALL);
    let mut readers: Vec<_> = poller.into_iter().collect();
    assert!(readers[0].next().is_none());
    check_record(readers[1].next().unwrap(), 16, 500);
}

#[test]
fn a_reader_dropped_mid_stream_hands_over_its_position() {
    let objs = load();
    produce(&objs, 100, 16, 0, EVENTS);

    let mut first = objs.maps.events.reader().unwrap();
    for seq in 0..10 {
        check_record(first.next().unwrap(), 16, seq);
    }
    drop(first);

    // The records read were given back; the next reader starts after them.
    let mut second = objs.maps.events.reader().unwrap();
    assert_eq!(second.pending(), 90 * 24);
    let mut seq = 10;
    second.drain(|record| {
        check_record(record, 16, seq);
        seq += 1;
    });
    assert_eq!(seq, 100);
}

#[test]
fn a_reader_keeps_the_map_alive_and_releases_it_on_drop() {
    let objs = load();
    let map_id = objs.maps.events.info().id;
    let mut reader = objs.maps.events.reader().unwrap();
    produce(&objs, 20, 16, 0, EVENTS);
    check_record(reader.next().unwrap(), 16, 0);

    // The reader holds its own descriptor and mappings of the ring.
    drop(objs);
    assert!(map_exists(map_id));
    check_record(reader.next().unwrap(), 16, 1);

    // Dropped mid-stream (18 records unread), it leaves nothing holding the map.
    drop(reader);
    assert!(eventually(Duration::from_secs(10), || !map_exists(map_id)));
}

#[test]
fn dropped_readers_leave_no_descriptor_or_mapping_behind() {
    in_own_process(
        "dropped_readers_leave_no_descriptor_or_mapping_behind",
        || {
            let objs = load();
            produce(&objs, 100, 64, 0, EVENTS);
            let (fds, maps) = (open_fds(), mappings());

            let mut reader = objs.maps.events.reader().unwrap();
            check_record(reader.next().unwrap(), 64, 0);
            assert_eq!(open_fds(), fds + 1, "the reader's own descriptor");
            assert!(mappings() >= maps + 2, "the consumer page and the data");
            drop(reader);
            assert_eq!((open_fds(), mappings()), (fds, maps));

            let mut poller = RingBufPoller::new().unwrap();
            poller.add(objs.maps.events.reader().unwrap()).unwrap();
            poller.add(objs.maps.small.reader().unwrap()).unwrap();
            assert_eq!(
                poller.next().map(|(ring, r)| (ring, r.len())),
                Some((0, 64))
            );
            drop(poller);
            assert_eq!((open_fds(), mappings()), (fds, maps));
        },
    );
}
