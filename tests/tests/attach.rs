//! Attaching to hooks the caller names: the loopback interface (xdp, tcx),
//! the root cgroup, a perf event of this thread, a function of this binary,
//! a tracepoint and a raw tracepoint; each counts what the kernel ran.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use ebpf_skeleton::link::{Kprobe, PerfEventFd, PerfEventSpec, SoftwareEvent, Uprobe};
use ebpf_skeleton::{ebpf_skeleton, Error, UpdateFlags};
use ebpf_skeleton_tests::kernel::{assert_tcx_refused, kernel, Feature};
use ebpf_skeleton_tests::{cgroup2_root, getppid_n, tid};

ebpf_skeleton!("../bpf/attach.bpf.o");

/// Slots of `hits`, as in attach.bpf.c.
const XDP: u32 = 0;
const TCX: u32 = 1;
const EGRESS: u32 = 2;
const PERF: u32 = 3;
const UPROBE: u32 = 4;
const TP: u32 = 5;
const RAW_TP: u32 = 6;
const KPROBE: u32 = 7;

const LOOPBACK: u32 = 1;

fn load_for_this_thread() -> attach::Objects {
    let objs = attach::Objects::load().expect("load attach.bpf.o");
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    objs
}

fn hits(objs: &attach::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

/// Sends `n` UDP datagrams over loopback and receives them.
fn udp_over_loopback(n: usize) {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 16];
    for i in 0..n {
        tx.send_to(&[i as u8; 8], rx.local_addr().unwrap()).unwrap();
        assert_eq!(rx.recv(&mut buf).unwrap(), 8);
    }
}

#[test]
fn xdp_and_tcx_on_loopback_see_its_packets() {
    let objs = load_for_this_thread();
    let xdp = objs
        .programs
        .count_xdp
        .attach_xdp(LOOPBACK)
        .expect("attach xdp to lo");
    if !kernel().has(Feature::Tcx) {
        assert_tcx_refused(objs.programs.count_tcx.attach_tcx(LOOPBACK), "count_tcx");
        udp_over_loopback(20);
        assert!(hits(&objs, XDP) >= 20, "xdp saw {}", hits(&objs, XDP));
        drop(xdp);
        std::thread::sleep(Duration::from_millis(100));
        let x = hits(&objs, XDP);
        udp_over_loopback(5);
        return assert_eq!(hits(&objs, XDP), x);
    }
    let tcx = objs
        .programs
        .count_tcx
        .attach_tcx(LOOPBACK)
        .expect("attach tcx to lo");
    udp_over_loopback(20);
    assert!(hits(&objs, XDP) >= 20, "xdp saw {}", hits(&objs, XDP));
    assert!(hits(&objs, TCX) >= 20, "tcx saw {}", hits(&objs, TCX));
    // Detached: no more counting. (A packet another test sends may still
    // be in a program that was running as the link went: let it finish.)
    drop((xdp, tcx));
    std::thread::sleep(Duration::from_millis(100));
    let (x, t) = (hits(&objs, XDP), hits(&objs, TCX));
    udp_over_loopback(5);
    assert_eq!((hits(&objs, XDP), hits(&objs, TCX)), (x, t));
}

#[test]
fn cgroup_egress_sees_this_process_s_packets() {
    let objs = load_for_this_thread();
    let cgroup = std::fs::File::open(cgroup2_root()).expect("open the cgroup v2 root");
    let _link = objs
        .programs
        .count_egress
        .attach_cgroup(&cgroup)
        .expect("attach to the cgroup");
    udp_over_loopback(10);
    assert!(
        hits(&objs, EGRESS) >= 10,
        "egress saw {}",
        hits(&objs, EGRESS)
    );
}

#[test]
fn perf_event_program_runs_on_this_thread_s_clock() {
    let objs = load_for_this_thread();
    let _link = objs
        .programs
        .count_perf
        .attach_perf_event(cpu_clock_event())
        .expect("attach");
    let start = Instant::now();
    let mut x = 0u64;
    while hits(&objs, PERF) == 0 && start.elapsed() < Duration::from_secs(5) {
        for i in 0..100_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    assert!(
        hits(&objs, PERF) > 0,
        "the cpu-clock event never ran the program"
    );
}

/// The function the uprobe test probes.
#[no_mangle]
#[inline(never)]
pub extern "C" fn attach_test_probed(x: u64) -> u64 {
    std::hint::black_box(x * 3)
}

#[test]
fn uprobe_on_a_function_of_this_binary() {
    let objs = load_for_this_thread();
    let pid = std::process::id() as i32;
    let _link = objs
        .programs
        .count_uprobe
        .attach_uprobe(
            &Uprobe::entry("/proc/self/exe")
                .function("attach_test_probed")
                .pid(pid),
        )
        .expect("attach uprobe");
    for i in 0..7 {
        attach_test_probed(i);
    }
    assert_eq!(hits(&objs, UPROBE), 7);
}

#[test]
fn tracepoints_named_at_attach_time() {
    let objs = load_for_this_thread();
    let tp = objs
        .programs
        .count_tp
        .attach_tracepoint("syscalls", "sys_enter_getppid")
        .expect("tp");
    let raw = objs
        .programs
        .count_raw
        .attach_raw_tracepoint("sys_enter")
        .expect("raw tp");
    getppid_n(9);
    assert_eq!((hits(&objs, TP), hits(&objs, RAW_TP)), (9, 9));
    drop((tp, raw));
}

#[test]
fn a_kprobe_named_at_attach_time_counts_or_fails_clearly() {
    let objs = load_for_this_thread();
    let attached = objs
        .programs
        .count_kprobe
        .attach_kprobe(&Kprobe::entry("do_sys_openat2"));
    if kernel().has(Feature::Kprobes) {
        let link = attached.expect("attach a kprobe on do_sys_openat2");
        // Every open(2) goes through do_sys_openat2; the program counts
        // every thread's, so other tests' opens may add to ours.
        for _ in 0..5 {
            std::fs::File::open("/proc/self/stat").unwrap();
        }
        assert!(
            hits(&objs, KPROBE) >= 5,
            "the kprobe saw {}",
            hits(&objs, KPROBE)
        );
        drop(link);
    } else {
        let err = attached.unwrap_err();
        assert!(matches!(err, Error::Attach { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("this kernel may lack kprobe support"),
            "{err}"
        );
    }
    let err = objs
        .programs
        .count_tp
        .attach_tracepoint("no_such_category", "nothing")
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");
}

/// A software cpu-clock event on this thread, sampling every 100 µs.
fn cpu_clock_event() -> PerfEventFd {
    PerfEventSpec::software(SoftwareEvent::CpuClock)
        .sample_period(100_000)
        .open()
        .expect("open a cpu-clock event")
}

#[test]
fn a_raw_tracepoint_program_runs_with_a_context_we_give() {
    let objs = load_for_this_thread();
    // The raw tracepoint's arguments: regs pointer, syscall number.
    let args: Vec<u8> = [0u64, 110].iter().flat_map(|a| a.to_ne_bytes()).collect();
    assert_eq!(objs.programs.count_raw.test_run(Some(&args)).unwrap(), 0);
    assert_eq!(hits(&objs, RAW_TP), 1);
    let other: Vec<u8> = [0u64, 39].iter().flat_map(|a| a.to_ne_bytes()).collect();
    objs.programs.count_raw.test_run(Some(&other)).unwrap();
    assert_eq!(
        hits(&objs, RAW_TP),
        1,
        "another syscall number is not counted"
    );
}
