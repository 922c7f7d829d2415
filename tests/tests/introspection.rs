//! Test runs in full (packets and contexts in and out, repeats, duration,
//! flags), program info, run statistics under a guard, and pinned programs
//! opened by another process.

use std::path::PathBuf;

use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::link::{CgroupOptions, TcxOptions};
use ebpf_skeleton::{ebpf_skeleton, enable_stats, Error, Map, Program, ProgramType, TestRun};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::{getppid_n, run, starting_children, tid, u64_value};

ebpf_skeleton!("../bpf/introspect.bpf.o");
ebpf_skeleton!("../bpf/counter.bpf.o");

/// An Ethernet frame from `src` to `dst` carrying a few bytes of IPv4.
fn frame(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&0x0800u16.to_be_bytes());
    frame.extend_from_slice(&[
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
    ]);
    frame
}

const A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xaa];
const B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xbb];

#[test]
fn a_packet_comes_back_rewritten_with_its_verdict() {
    let objs = introspect::Objects::load().unwrap();
    let packet = frame(A, B);
    let run = objs
        .programs
        .swap_macs
        .test_run_with(&TestRun::new().data(&packet).repeat(1001))
        .unwrap();
    // Repeats run over the same buffer: an odd number of swaps swaps.
    assert_eq!(run.return_value, sys::XDP_TX);
    assert_eq!(run.data, frame(B, A));
    assert!(run.duration.as_nanos() > 0, "{:?}", run.duration);

    // Too short for an Ethernet header: dropped, untouched.
    let run = objs
        .programs
        .swap_macs
        .test_run_with(&TestRun::new().data(&packet[..14]).data_out(64))
        .unwrap();
    assert_eq!(run.return_value, sys::XDP_TX);
    let short = objs
        .programs
        .swap_macs
        .test_run_with(&TestRun::new().data(&[0u8; 10]));
    if !kernel().at_least(5, 18) {
        // Before 5.18 an XDP test run takes any length of data: the
        // program finds no Ethernet header, drops the frame, and it comes
        // back untouched.
        let run = short.unwrap();
        assert_eq!(run.return_value, sys::XDP_DROP);
        assert_eq!(run.data, [0u8; 10]);
        return;
    }
    // From 5.18 the kernel wants at least an Ethernet header of data for
    // XDP (the check came with 2025's "bpf, test_run: Fix use-after-free
    // issue in eth_skb_pkt_type()", in every stable series from 6.1 on).
    let run = short.unwrap_err();
    assert_eq!(run.errno(), Some(libc::EINVAL), "{run}");
}

#[test]
fn a_context_goes_in_and_comes_back_changed() {
    let objs = introspect::Objects::load().unwrap();
    // struct __sk_buff up to `mark`, its third u32 (the kernel zeroes the
    // rest); the whole struct comes back, in at most 256 bytes.
    let mut skb = vec![0u8; 12];
    skb[8..12].copy_from_slice(&41u32.to_ne_bytes());
    let packet = frame(A, B);
    let run = objs
        .programs
        .mark_skb
        .test_run_with(&TestRun::new().data(&packet).ctx(&skb).ctx_out(256))
        .unwrap();
    assert_eq!(run.return_value, 0);
    assert_eq!(u32::from_ne_bytes(run.ctx[8..12].try_into().unwrap()), 42);
}

#[test]
fn live_frames_run_the_program_for_real() {
    let objs = introspect::Objects::load().unwrap();
    let packet = frame(A, B);
    // struct xdp_md { data, data_end, data_meta, ingress_ifindex, ... }:
    // the data ends at the packet's length; it comes in on loopback (1).
    let mut md = vec![0u8; size_of::<sys::xdp_md>()];
    md[4..8].copy_from_slice(&(packet.len() as u32).to_ne_bytes());
    md[12..16].copy_from_slice(&1u32.to_ne_bytes());
    let run = objs.programs.count_pass.test_run_with(
        &TestRun::new()
            .data(&packet)
            .ctx(&md)
            .repeat(25)
            .flags(sys::BPF_F_TEST_XDP_LIVE_FRAMES),
    );
    if !kernel().at_least(5, 18) {
        // Live frames are 5.18's (and an XDP context in a test run 5.13's):
        // the kernel refuses the run, and the program never runs.
        let err = run.unwrap_err();
        assert!(
            matches!(&err, Error::Sys { what, .. } if what == "test-running program `count_pass`"),
            "{err:?}"
        );
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert_eq!(objs.bss.passes.get(), 0);
        return;
    }
    let run = run.unwrap();
    assert_eq!(run.return_value, 0, "live frames report no verdict");
    assert!(run.data.is_empty(), "live frames take no output");
    assert_eq!(objs.bss.passes.get(), 25);
}

/// A live-frame run in batches of 4: every repeat still runs; a batch over
/// the kernel's most (256) is too big, and a batch size without live frames
/// is refused.
#[test]
fn live_frames_run_in_batches_of_the_size_asked() {
    let objs = introspect::Objects::load().unwrap();
    let packet = frame(A, B);
    let mut md = vec![0u8; size_of::<sys::xdp_md>()];
    md[4..8].copy_from_slice(&(packet.len() as u32).to_ne_bytes());
    md[12..16].copy_from_slice(&1u32.to_ne_bytes());
    let live = || {
        TestRun::new()
            .data(&packet)
            .ctx(&md)
            .repeat(25)
            .flags(sys::BPF_F_TEST_XDP_LIVE_FRAMES)
    };
    let program = &objs.programs.count_pass;
    let passes = || objs.bss.passes.get();
    // Refused everywhere: before 5.18 the kernel knows no batch size (a
    // field past its last is not zero), from 5.18 it takes one only with
    // live frames.
    let not_live = program.test_run_with(&TestRun::new().data(&packet).batch_size(4));
    assert_eq!(not_live.unwrap_err().errno(), Some(libc::EINVAL));
    assert_eq!(passes(), 0);
    if !kernel().at_least(5, 18) {
        for size in [4, 256, 257] {
            let run = program.test_run_with(&live().batch_size(size));
            assert_eq!(run.unwrap_err().errno(), Some(libc::EINVAL), "{size}");
        }
        assert_eq!(passes(), 0);
        return;
    }
    // 25 runs in batches of 4 (six of 4 and one of 1), then in one of 25.
    let run = program.test_run_with(&live().batch_size(4)).unwrap();
    assert_eq!(run.return_value, 0);
    assert_eq!(passes(), 25);
    program.test_run_with(&live().batch_size(256)).unwrap();
    assert_eq!(passes(), 50);
    let too_big = program.test_run_with(&live().batch_size(257)).unwrap_err();
    assert_eq!(too_big.errno(), Some(libc::E2BIG), "{too_big}");
    assert_eq!(passes(), 50, "a refused run runs nothing");
}

/// Whether the sysctl `kernel.bpf_stats_enabled` keeps the kernel's run
/// statistics on. It shows its own setting only: a `BPF_ENABLE_STATS`
/// descriptor (a guard) turns them on without changing it (Linux 5.8).
fn stats_sysctl_on() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled")
        .unwrap()
        .trim()
        == "1"
}

/// The run statistics are global: one test drives them, in its own binary
/// (nothing else here enables them).
#[test]
fn program_info_and_run_statistics() {
    let objs = introspect::Objects::load().unwrap();
    let tick = &objs.programs.tick;
    let info = tick.info().unwrap();
    assert_eq!(info.name, "tick");
    assert_eq!(info.program_type, ProgramType::RAW_TRACEPOINT);
    assert_eq!(info.id, tick.id().unwrap());
    assert_eq!(info.map_ids.len(), 1, "tick uses .bss");
    assert_eq!(info.map_ids[0], objs.bss.map().info().id);
    assert!(info.translated_size > 0);
    // JITed when the JIT is on (1, or 2 to also dump it), not when off.
    let jit = std::fs::read_to_string("/proc/sys/net/core/bpf_jit_enable").unwrap();
    match jit.trim() {
        "0" => assert_eq!(info.jited_size, 0),
        "1" | "2" => assert!(info.jited_size > 0, "JIT {}", jit.trim()),
        other => panic!("bpf_jit_enable {other}"),
    }
    assert_eq!(info.created_by_uid, 0, "loaded as root");
    assert_eq!(info.recursion_misses, 0);
    // The kernel counts the instructions it verified from 5.16.
    if kernel().at_least(5, 16) {
        assert!(info.verified_instructions > 0);
    } else {
        assert_eq!(info.verified_instructions, 0);
    }
    assert!(info.gpl_compatible);
    assert_eq!(info.tag, bpftool_tag(info.id), "the tag bpftool shows");
    let age = std::time::SystemTime::now()
        .duration_since(info.loaded_at)
        .unwrap();
    assert!(age.as_secs() < 60, "loaded {age:?} ago");

    let sysctl_on = stats_sysctl_on();
    let before = tick.info().unwrap().run_count;
    {
        let _stats = enable_stats().unwrap();
        assert_eq!(
            stats_sysctl_on(),
            sysctl_on,
            "a guard leaves the sysctl alone"
        );
        for _ in 0..50 {
            run(tick, &[]);
        }
        let info = tick.info().unwrap();
        assert_eq!(info.run_count, before + 50);
        assert!(info.run_time.as_nanos() > 0);
    }
    // The sysctl, when set system-wide, keeps them on past the guard.
    for _ in 0..50 {
        run(tick, &[]);
    }
    let count = tick.info().unwrap().run_count;
    if sysctl_on {
        assert_eq!(count, before + 100, "kept on by the sysctl");
    } else {
        assert_eq!(count, before + 50, "no counting once the guard is gone");
    }
    assert_eq!(objs.bss.ticks.get(), 100);
}

/// The tag `bpftool prog show id ID` prints, as bytes.
fn bpftool_tag(id: u32) -> [u8; 8] {
    let out = std::process::Command::new("bpftool")
        .args(["prog", "show", "id", &id.to_string()])
        .output()
        .expect("bpftool (apt install bpftool)");
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text
        .split_whitespace()
        .skip_while(|w| *w != "tag")
        .nth(1)
        .unwrap_or_else(|| panic!("no tag in {text}"));
    let mut tag = [0u8; 8];
    for (i, byte) in tag.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    tag
}

#[test]
fn a_program_pinned_by_one_process_is_run_by_another() {
    const CHILD: &str = "EBPF_SKELETON_PIN_CHILD";
    let path = PathBuf::from(format!(
        "/sys/fs/bpf/ebpf-skeleton-introspect-{}",
        std::process::id()
    ));
    if let Some(path) = std::env::var_os(CHILD) {
        let objs = introspect::Objects::load().unwrap();
        objs.programs.swap_macs.pin(&path).unwrap();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_program_pinned_by_one_process_is_run_by_another",
        ])
        .env(CHILD, &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // The child is gone; its program is not.
    let pinned = Program::from_pin(&path).unwrap();
    assert_eq!(pinned.name(), "swap_macs");
    assert_eq!(pinned.program_type(), ProgramType::XDP);
    let run = pinned
        .test_run_with(&TestRun::new().data(&frame(A, B)))
        .unwrap();
    assert_eq!((run.return_value, run.data), (sys::XDP_TX, frame(B, A)));
    pinned.unpin(&path).unwrap();
    assert!(!path.exists());
}

/// Runs the test `name` in a child process of this binary, which pins its
/// programs at paths starting with `base` (given in
/// `EBPF_SKELETON_PIN_CHILD`), and waits for it to end.
fn pinned_by_a_child(name: &str, base: &str) {
    let out = starting_children(|| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name])
            .env("EBPF_SKELETON_PIN_CHILD", base)
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{out:?}");
}

/// The count of getppid(2) calls of this thread in `map` (0 before the
/// first).
fn count_of(map: &Map) -> u64 {
    map.lookup(&tid().to_ne_bytes())
        .unwrap()
        .map_or(0, |v| u64_value(&v))
}

#[test]
fn a_program_pinned_by_one_process_is_attached_by_another() {
    let name = "a_program_pinned_by_one_process_is_attached_by_another";
    let child = std::env::var("EBPF_SKELETON_PIN_CHILD").ok();
    let base = child.clone().unwrap_or_else(|| {
        format!(
            "/sys/fs/bpf/ebpf-skeleton-attach-pinned-{}",
            std::process::id()
        )
    });
    let raw_path = PathBuf::from(format!("{base}-raw"));
    let tp_path = PathBuf::from(format!("{base}-tp"));
    let tc_path = PathBuf::from(format!("{base}-tc"));
    if child.is_some() {
        let objs = counter::Objects::load().unwrap();
        objs.programs.count_getppid_raw.pin(&raw_path).unwrap();
        objs.programs.count_getppid.pin(&tp_path).unwrap();
        let objs = introspect::Objects::load().unwrap();
        objs.programs.mark_skb.pin(&tc_path).unwrap();
        return;
    }
    pinned_by_a_child(name, &base);

    // The child and its objects are gone; the pinned programs and the maps
    // they use are not.
    for (path, program, map, attach) in [
        (&raw_path, "count_getppid_r", "raw_counts", "raw"),
        (&tp_path, "count_getppid", "counts", "tp"),
    ] {
        let pinned = Program::from_pin(path).unwrap();
        assert_eq!(pinned.name(), program);
        let info = pinned.info().unwrap();
        assert_eq!(info.map_ids.len(), 1, "{program} uses its map alone");
        let counts = Map::from_id(info.map_ids[0]).unwrap();
        assert_eq!(counts.kernel_name(), map);
        assert_eq!(count_of(&counts), 0, "{program} has not run yet");

        let link = match attach {
            "raw" => pinned.attach_raw_tracepoint("sys_enter"),
            _ => pinned.attach_tracepoint("syscalls", "sys_enter_getppid"),
        }
        .unwrap();
        getppid_n(7);
        assert_eq!(count_of(&counts), 7, "{program} counted each getppid");
        drop(link);
        getppid_n(5);
        assert_eq!(count_of(&counts), 7, "{program} stopped with its link");
        pinned.unpin(path).unwrap();
        assert!(!path.exists());
    }

    // A tc program knows no hook of its own once pinned: the kernel does
    // not say which one it was loaded for, and the error says to give it.
    let pinned = Program::from_pin(&tc_path).unwrap();
    assert_eq!(pinned.program_type(), ProgramType::SCHED_CLS);
    assert_eq!(pinned.expected_attach_type(), None);
    let hookless = [
        ("tcx", pinned.attach_tcx(1).map(drop).unwrap_err()),
        (
            "tcx_with",
            pinned
                .attach_tcx_with(1, &TcxOptions::new())
                .map(drop)
                .unwrap_err(),
        ),
        (
            "cgroup",
            pinned
                .attach_cgroup_with(
                    std::fs::File::open(ebpf_skeleton_tests::cgroup2_root()).unwrap(),
                    &CgroupOptions::new(),
                )
                .map(drop)
                .unwrap_err(),
        ),
    ];
    for (how, err) in hookless {
        let Error::Attach { reason, .. } = &err else {
            panic!("{how}: {err:?}");
        };
        assert!(
            reason.starts_with(
                "the program was opened by pin, id or descriptor, and the kernel does not say \
                 which hook it was loaded for: give "
            ),
            "{how}: {err}"
        );
        assert_eq!(err.errno(), Some(libc::EINVAL), "{how}: {err}");
    }
    let Error::Attach { reason, .. } = &pinned.attach_tcx(1).map(drop).unwrap_err() else {
        unreachable!()
    };
    let how = "(attach_tcx_with(ifindex, &TcxOptions::new().ingress()) or .egress())";
    if kernel().has(Feature::Tcx) {
        assert!(reason.ends_with(how), "{reason}");
    } else {
        // Before 6.6 the reason also says that tcx is missing.
        assert!(
            reason.contains(how)
                && reason.ends_with(&format!(
                    "tcx needs Linux 6.6 or later and this kernel is {}: attach with legacy tc \
                     instead",
                    kernel().release
                )),
            "{reason}"
        );
    }
    pinned.unpin(&tc_path).unwrap();
}
