//! BPF streams (tests/bpf/streams.bpf.c): the object loads on every kernel
//! and its raw tracepoint program, run with `BPF_PROG_TEST_RUN`, writes
//! through the stream kfunc this kernel has; a program's streams are read
//! through the runtime, empty before it wrote.
//!
//! Before Linux 6.17 the kernel has neither the kfunc nor the command: the
//! object still loads (its kfuncs are weak), the program writes nothing,
//! and every read fails with the kernel's EINVAL for a command it does not
//! know, the error naming the program and the version streams need.
//!
//! What the program wrote is not read back here: on this machine kind's
//! kernel (6.18.44-fc) every write is refused with ENOMEM (the stream's
//! page allocation fails; its cause is not known), so the lines cannot be
//! asserted on the one kernel these tests were run on.

use ebpf_skeleton::printk::Stream;
use ebpf_skeleton::{ebpf_skeleton, Program};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::run;

ebpf_skeleton!("../bpf/streams.bpf.o");

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
    let objs = streams::Specs::new()
        .unwrap()
        .load()
        .expect("load streams.bpf.o");
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
fn the_program_writes_through_the_stream_kfunc_this_kernel_has() {
    let objs = streams::Specs::new()
        .unwrap()
        .load()
        .expect("load streams.bpf.o");
    let prog = &objs.programs.write_streams;
    assert_eq!(run(prog, &[3, 7]), 0);
    assert_eq!(objs.bss.variant.get(), expected_variant());
    if !kernel().has(Feature::BpfStreams) {
        // No kfunc was called: nothing written, nothing refused.
        assert_eq!((objs.bss.written.get(), objs.bss.last_error.get()), (0, 0));
    }
}
