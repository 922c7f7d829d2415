//! BPF streams (tests/bpf/streams.bpf.c): a raw tracepoint program run with
//! `BPF_PROG_TEST_RUN` writes lines to its stdout and one to its stderr,
//! and they come back from that program, exactly, once: a read consumes
//! them. Through `log`, each line carries the program's name.
//!
//! Before Linux 6.17 the kernel has neither the kfunc nor the command: the
//! object still loads (its kfuncs are weak), the program writes nothing,
//! and every read fails with the kernel's EINVAL for a command it does not
//! know, the error naming the program and the version streams need.
//!
//! On this machine kind's 6.18 (6.18.44-fc) every write is refused with
//! ENOMEM (the stream's page is never allocated; the cause is not known):
//! the program sees the error and the streams stay empty. 7.3 keeps them.

use ebpf_skeleton::printk::{Stream, STREAM_LOG_TARGET};
use ebpf_skeleton::{ebpf_skeleton, Program};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::{run, KeptLog};

ebpf_skeleton!("../bpf/streams.bpf.o");

/// streams.bpf.o, loaded: every kernel this suite runs on loads it.
fn load() -> streams::Objects {
    streams::Specs::new()
        .unwrap()
        .load()
        .expect("load streams.bpf.o")
}

/// The kfunc the program wrote through, as its `variant` says: 7.0 made
/// `bpf_stream_vprintk` take its program implicitly (1), 6.18 named the
/// explicit form `bpf_stream_vprintk_impl` (2), 6.17 had it as
/// `bpf_stream_vprintk` (3); before, none (0).
fn expected_variant() -> u32 {
    let k = kernel();
    if k.at_least(7, 0) {
        1
    } else if k.at_least(6, 18) {
        2
    } else if k.has(Feature::BpfStreams) {
        3
    } else {
        0
    }
}

/// Whether the kernel keeps what a program writes to its streams. The 6.18
/// kernel of this suite's host (6.18.44) has the streams and the kfunc but
/// answers every write with ENOMEM, three runs of three out of three, on
/// either CPU (the stream's page is never allocated); 7.3 keeps them.
fn keeps_writes() -> bool {
    kernel().has(Feature::BpfStreams) && expected_variant() != 2
}

/// What the program's writes come to: `(last error, writes kept)` for its
/// `lines` stdout lines and one stderr line.
fn expected_writes(lines: u32) -> (i32, u32) {
    if !kernel().has(Feature::BpfStreams) {
        (0, 0)
    } else if keeps_writes() {
        (0, lines + 1)
    } else {
        (-libc::ENOMEM, 0)
    }
}

/// A tag of this process's, that its lines carry.
fn tag() -> u64 {
    u64::from(std::process::id()) << 8 | 0x5e
}

fn stdout_lines(tag: u64, n: u64) -> Vec<String> {
    (1..=n)
        .map(|i| format!("stream test tag={tag} line {i} of {n}"))
        .collect()
}

fn stderr_line(tag: u64) -> String {
    format!("stream test tag={tag}: something went wrong (-22)")
}

/// Asserts that `result` is a read refused by a kernel without streams.
fn assert_no_streams<T: std::fmt::Debug>(result: ebpf_skeleton::Result<T>, stream: Stream) {
    let err = result.expect_err("a kernel before 6.17 read a BPF stream");
    assert!(
        matches!(err, ebpf_skeleton::Error::Sys { .. }),
        "expected a system call error, got {err:?}"
    );
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "reading the {stream} stream of program `write_streams`: BPF streams need Linux \
             6.17 or later and this kernel is {}",
            kernel().release
        )
    );
}

#[test]
fn a_program_that_wrote_nothing_has_empty_streams() {
    let objs = load();
    let prog = &objs.programs.write_streams;
    if !kernel().has(Feature::BpfStreams) {
        assert_no_streams(prog.stream_lines(Stream::Stdout), Stream::Stdout);
        assert_no_streams(prog.stream_lines(Stream::Stderr), Stream::Stderr);
        assert_no_streams(
            prog.read_stream(Stream::Stderr, &mut [0; 64]),
            Stream::Stderr,
        );
        assert_no_streams(prog.forward_streams_to_log(), Stream::Stdout);
        return;
    }
    assert!(prog.stream_lines(Stream::Stdout).unwrap().is_empty());
    assert!(prog.stream_lines(Stream::Stderr).unwrap().is_empty());
    assert_eq!(prog.read_stream(Stream::Stdout, &mut [0; 64]).unwrap(), 0);
    assert_eq!(prog.forward_streams_to_log().unwrap(), 0);
    // The same program opened by its id has the same (empty) streams.
    let by_id = Program::from_id(prog.id().unwrap()).unwrap();
    assert!(by_id.stream_lines(Stream::Stdout).unwrap().is_empty());
}

#[test]
fn a_program_writes_its_streams_and_each_line_is_read_once() {
    let objs = load();
    let prog = &objs.programs.write_streams;
    let tag = tag();
    assert_eq!(run(prog, &[3, tag]), 0);
    assert_eq!(objs.bss.variant.get(), expected_variant());
    assert_eq!(
        (objs.bss.last_error.get(), objs.bss.written.get()),
        expected_writes(3),
        "(last error, writes kept)"
    );

    if !kernel().has(Feature::BpfStreams) {
        assert_no_streams(prog.stream_lines(Stream::Stdout), Stream::Stdout);
        assert_no_streams(prog.stream_lines(Stream::Stderr), Stream::Stderr);
        assert_no_streams(
            prog.read_stream(Stream::Stdout, &mut [0; 64]),
            Stream::Stdout,
        );
        return;
    }
    if !keeps_writes() {
        // Refused writes leave both streams empty, and reading them works.
        assert!(prog.stream_lines(Stream::Stdout).unwrap().is_empty());
        assert!(prog.stream_lines(Stream::Stderr).unwrap().is_empty());
        assert_eq!(prog.read_stream(Stream::Stdout, &mut [0; 64]).unwrap(), 0);
        return;
    }
    assert_eq!(
        prog.stream_lines(Stream::Stdout).unwrap(),
        stdout_lines(tag, 3)
    );
    assert_eq!(
        prog.stream_lines(Stream::Stderr).unwrap(),
        [stderr_line(tag)]
    );
    // Consumed: nothing is left, in either stream.
    assert!(prog.stream_lines(Stream::Stdout).unwrap().is_empty());
    assert!(prog.stream_lines(Stream::Stderr).unwrap().is_empty());
    assert_eq!(prog.read_stream(Stream::Stdout, &mut [0; 64]).unwrap(), 0);

    // A read of a few bytes takes that many; the rest of the line follows.
    run(prog, &[1, tag]);
    let line = format!("{}\n", stdout_lines(tag, 1)[0]);
    let mut head = [0u8; 10];
    assert_eq!(prog.read_stream(Stream::Stdout, &mut head).unwrap(), 10);
    assert_eq!(&head, &line.as_bytes()[..10]);
    let mut rest = [0u8; 256];
    let n = prog.read_stream(Stream::Stdout, &mut rest).unwrap();
    assert_eq!(&rest[..n], &line.as_bytes()[10..]);

    // The streams are the program's, not the handle's: the same program
    // opened by its id reads what is left.
    let by_id = Program::from_id(prog.id().unwrap()).unwrap();
    assert_eq!(
        by_id.stream_lines(Stream::Stderr).unwrap(),
        [stderr_line(tag)]
    );
    assert!(prog.stream_lines(Stream::Stderr).unwrap().is_empty());
}

static KEPT: KeptLog = KeptLog::new(STREAM_LOG_TARGET);

#[test]
fn stream_lines_are_logged_with_the_program_that_wrote_them() {
    let objs = load();
    let prog = &objs.programs.write_streams;
    log::set_logger(&KEPT).expect("the only logger");
    log::set_max_level(log::LevelFilter::Info);
    let tag = tag() + 1;
    run(prog, &[2, tag]);

    if !kernel().has(Feature::BpfStreams) {
        assert_no_streams(prog.forward_streams_to_log(), Stream::Stdout);
        assert!(KEPT.lines.lock().unwrap().is_empty());
        return;
    }
    if !keeps_writes() {
        assert_eq!(prog.forward_streams_to_log().unwrap(), 0);
        assert!(KEPT.lines.lock().unwrap().is_empty());
        return;
    }
    assert_eq!(prog.forward_streams_to_log().unwrap(), 3);
    let mut expected: Vec<String> = stdout_lines(tag, 2)
        .into_iter()
        .map(|line| format!("INFO write_streams: {line}"))
        .collect();
    expected.push(format!("WARN write_streams: {}", stderr_line(tag)));
    assert_eq!(*KEPT.lines.lock().unwrap(), expected);
    // Drained: a second forward logs nothing.
    assert_eq!(prog.forward_streams_to_log().unwrap(), 0);
}
