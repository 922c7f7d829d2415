//! The user ring buffer (`UserRingBuf`, Linux 6.1): Rust writes samples, a
//! program the test runs drains them with `bpf_user_ringbuf_drain` and
//! checks each one; they arrive in order, none lost, through many turns of
//! the ring, with discarded samples skipped. An older kernel refuses to
//! create the map, and each test asserts that instead.

use std::time::Duration;

use ebpf_skeleton::{ebpf_skeleton, Error, UserRingBuf, UserRingBufWriter, UserSample};
use ebpf_skeleton_tests::kernel::{assert_map_refused, kernel, Feature};
use ebpf_skeleton_tests::run;

ebpf_skeleton!("../bpf/user_ringbuf.bpf.o");

const MAX_WORDS: u64 = 8;

/// The loaded object, or before 6.1 `None` once the kernel's refusal of the
/// map `samples` is asserted.
fn load() -> Option<user_ringbuf::Objects> {
    if !kernel().has(Feature::UserRingbuf) {
        assert_map_refused(user_ringbuf::Objects::load(), "user_ringbuf", "samples");
        return None;
    }
    Some(user_ringbuf::Objects::load().expect("load"))
}

fn fill(seq: u64, i: u64) -> u64 {
    seq * 31 + i + 1
}

/// Sample `seq`: its head (seq, word count) and `seq % 9` words.
fn words_of(seq: u64) -> u64 {
    seq % (MAX_WORDS + 1)
}

fn sample_bytes(seq: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&seq.to_ne_bytes());
    bytes.extend_from_slice(&words_of(seq).to_ne_bytes());
    for i in 0..words_of(seq) {
        bytes.extend_from_slice(&fill(seq, i).to_ne_bytes());
    }
    bytes
}

/// Writes sample `seq` in place, word by word.
fn write_in_place(sample: &mut UserSample<'_>, seq: u64) {
    sample.write_at(0, &seq).unwrap();
    sample.write_at(8, &words_of(seq)).unwrap();
    for i in 0..words_of(seq) {
        sample.write_at(16 + 8 * i as usize, &fill(seq, i)).unwrap();
    }
}

/// Writes samples from `seq` on until the ring is full, alternating the
/// two ways to write, and throwing a sample away now and then; returns the
/// next sequence number.
fn fill_ring(writer: &mut UserRingBufWriter, mut seq: u64, until: u64) -> u64 {
    while seq < until {
        let len = 16 + 8 * words_of(seq) as usize;
        if seq.is_multiple_of(5) {
            // A discarded sample, which the program must never see.
            match writer.reserve(24).unwrap() {
                Some(mut junk) => {
                    junk.write_at(0, &u64::MAX).unwrap();
                    junk.discard();
                }
                None => return seq,
            }
        }
        let written = if seq.is_multiple_of(2) {
            match writer.reserve(len).unwrap() {
                Some(mut sample) => {
                    write_in_place(&mut sample, seq);
                    sample.submit();
                    true
                }
                None => false,
            }
        } else {
            writer.write(&sample_bytes(seq)).unwrap()
        };
        if !written {
            return seq;
        }
        seq += 1;
    }
    seq
}

#[test]
fn samples_reach_the_program_in_order_through_many_turns() {
    let Some(objs) = load() else { return };
    let ring: &UserRingBuf = &objs.maps.samples;
    assert_eq!(ring.capacity(), 16384);
    let mut writer = ring.writer().expect("writer");
    assert_eq!(writer.capacity(), 16384);
    assert_eq!(writer.free(), 16384);
    const TOTAL: u64 = 5000;
    let (mut seq, mut turns) = (0, 0);
    while seq < TOTAL {
        let before = seq;
        seq = fill_ring(&mut writer, seq, TOTAL);
        assert!(seq > before, "the program drained, so there is room");
        run(&objs.programs.drain, &[]);
        assert_eq!(
            objs.bss.last_ret.get(),
            (seq - before) as i64,
            "drained this turn"
        );
        assert_eq!(objs.bss.drained.get(), seq);
        assert_eq!(objs.bss.bad.get(), 0, "a sample out of order or damaged");
        assert_eq!(writer.free(), writer.capacity(), "all given back");
        turns += 1;
    }
    assert_eq!(objs.bss.next_seq.get(), TOTAL);
    // 16 KiB rings of 16- to 80-byte samples: many times round.
    assert!(turns >= 10, "{turns} turns");

    // Nothing is left to drain.
    run(&objs.programs.drain, &[]);
    assert_eq!(objs.bss.last_ret.get(), 0);
    assert_eq!(objs.bss.drained.get(), TOTAL);
}

#[test]
fn an_unsubmitted_sample_holds_back_the_ones_after_it() {
    let Some(objs) = load() else { return };
    let mut writer = objs.maps.samples.writer().unwrap();
    assert!(writer.write(&sample_bytes(0)).unwrap());
    let mut held = writer.reserve(16).unwrap().unwrap();
    held.write_at(0, &1u64).unwrap();
    held.write_at(8, &0u64).unwrap();
    run(&objs.programs.drain, &[]);
    // The program stops at the sample still being written.
    assert_eq!(objs.bss.drained.get(), 1);
    held.submit();
    assert!(writer.write(&sample_bytes(2)).unwrap());
    run(&objs.programs.drain, &[]);
    assert_eq!(objs.bss.drained.get(), 3);
    assert_eq!(objs.bss.bad.get(), 0);

    // Dropping a reserved sample throws it away.
    drop(writer.reserve(16).unwrap().unwrap());
    assert!(writer.write(&sample_bytes(3)).unwrap());
    run(&objs.programs.drain, &[]);
    assert_eq!(objs.bss.last_ret.get(), 1);
    assert_eq!((objs.bss.drained.get(), objs.bss.bad.get()), (4, 0));
}

#[test]
fn one_writer_per_ring_however_the_map_was_reached() {
    let Some(objs) = load() else { return };
    let writer = objs.maps.samples.writer().unwrap();
    let again = objs.maps.samples.writer().unwrap_err();
    assert!(matches!(again, Error::Busy { .. }), "{again}");
    let clone = objs.maps.samples.map().try_clone().unwrap();
    let other = UserRingBufWriter::new(&clone).unwrap_err();
    assert!(matches!(other, Error::Busy { .. }), "{other}");
    drop(writer);
    UserRingBufWriter::new(&clone).expect("free again once the first is gone");
}

#[test]
fn samples_that_never_fit_are_refused() {
    let Some(objs) = load() else { return };
    let mut writer = objs.maps.samples.writer().unwrap();
    // 8 bytes of every sample are its header.
    assert!(writer.reserve(16384).is_err());
    let whole = writer.reserve(16384 - 8).unwrap().expect("the whole ring");
    assert_eq!(whole.len(), 16376);
    drop(whole);
    run(&objs.programs.drain, &[]);
    assert_eq!(
        writer.free(),
        16384,
        "the kernel skipped the discarded sample"
    );
    let mut small = writer.reserve(16).unwrap().unwrap();
    let err = small.write_at(12, &0u64).unwrap_err();
    assert!(err.to_string().contains("write a sample"), "{err}");
    small.discard();
    run(&objs.programs.drain, &[]);
    assert_eq!(objs.bss.drained.get(), 0, "both samples were thrown away");
    assert_eq!(objs.bss.last_ret.get(), 0);
}

#[test]
fn a_writer_waits_for_the_program_to_make_room() {
    let Some(objs) = load() else { return };
    let mut writer = objs.maps.samples.writer().unwrap();
    let seq = fill_ring(&mut writer, 0, u64::MAX);
    assert!(
        !writer
            .wait_for_room(80, Some(Duration::from_millis(50)))
            .unwrap(),
        "nothing drains: no room"
    );
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            run(&objs.programs.drain, &[]);
        });
        assert!(writer
            .wait_for_room(80, Some(Duration::from_secs(10)))
            .unwrap());
    });
    assert_eq!(objs.bss.drained.get(), seq);
    assert_eq!(objs.bss.bad.get(), 0);
}

#[test]
fn the_program_s_checks_catch_a_wrong_sample() {
    // The checks the other tests rely on can fail: a wrong word, a sample
    // out of order and one longer than its words say are all counted.
    let Some(objs) = load() else { return };
    let mut writer = objs.maps.samples.writer().unwrap();
    assert!(writer.write(&sample_bytes(0)).unwrap());
    let mut wrong_word = sample_bytes(1);
    wrong_word[16] ^= 1;
    assert!(writer.write(&wrong_word).unwrap());
    assert!(writer.write(&sample_bytes(5)).unwrap());
    let mut too_long = sample_bytes(6);
    too_long.push(0);
    assert!(writer.write(&too_long).unwrap());
    run(&objs.programs.drain, &[]);
    assert_eq!((objs.bss.drained.get(), objs.bss.bad.get()), (4, 3));
}

/// The derive takes a user ring buffer as a field.
#[derive(ebpf_skeleton::Objects)]
#[ebpf(object = "../bpf/user_ringbuf.bpf.o")]
struct Drained {
    samples: UserRingBuf,
    drain: ebpf_skeleton::Program,
}

#[test]
fn a_derived_field_is_a_user_ring_buffer() {
    if !kernel().has(Feature::UserRingbuf) {
        return assert_map_refused(Drained::load(), "user_ringbuf", "samples");
    }
    let objs = Drained::load().expect("load");
    let mut writer = objs.samples.writer().unwrap();
    assert!(writer.write(&sample_bytes(0)).unwrap());
    run(&objs.drain, &[]);
    assert_eq!(writer.free(), writer.capacity(), "drained");
}
