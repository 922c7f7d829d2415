//! Programs of no object attach like any other: XDP and tcx on a veth of a
//! network namespace of the test's own, a cgroup's egress, a tracepoint, a
//! raw tracepoint, a socket; each counts exactly what the kernel ran it on,
//! and stops once its link is dropped.

use std::net::UdpSocket;
use std::time::Duration;

use ebpf_skeleton::asm::Instructions;
use ebpf_skeleton::map::socket_cookie;
use ebpf_skeleton::{
    asm, Array, AttachType, Error, Program, ProgramBuilder, ProgramType, UpdateFlags,
};
use ebpf_skeleton_tests::kernel::{assert_tcx_refused, kernel, Feature};
use ebpf_skeleton_tests::net::{in_new_netns, veth, FrameSender};
use ebpf_skeleton_tests::{cgroup2_root, getppid_n, tid};

/// What the test programs share, one value of two words: the first says
/// whose events count (a thread id, a socket cookie), the second counts
/// them.
type State = Array<[u64; 2]>;

fn state() -> State {
    Array::create("state", 1).unwrap()
}

fn count(state: &State) -> u64 {
    state.get(0).unwrap().unwrap()[1]
}

fn count_for(state: &State, whose: u64) {
    state.set(0, &[whose, 0], UpdateFlags::ANY).unwrap();
}

fn load(name: &str, kind: ProgramType, program: Instructions, state: &State) -> Program {
    ProgramBuilder::new(name, kind, program)
        .map("state", state)
        .load()
        .unwrap_or_else(|err| panic!("{err}"))
}

/// Counts the calls of this thread's, given that `r0` holds
/// `bpf_get_current_pid_tgid()` (its low half is the thread id).
const COUNT_IF_THIS_THREAD: &str = "
    w0 = w0
    r1 = map_value(state) ll
    r2 = *(u64 *)(r1 + 0)
    if r0 != r2 goto out
    r2 = 1
    lock *(u64 *)(r1 + 8) += r2
  out:
    r0 = 0
    exit";

/// Runs `getppid` 50 times while the link lives and 10 times after; the
/// program must have counted the 50.
fn counts_getppid_while_attached(state: &State, link: ebpf_skeleton::Link) {
    getppid_n(50);
    assert_eq!(count(state), 50);
    drop(link);
    getppid_n(10);
    assert_eq!(count(state), 50, "counted after the link was dropped");
}

#[test]
fn a_raw_tracepoint_program_counts_this_threads_getppid_calls() {
    let state = state();
    count_for(&state, u64::from(tid()));
    // sys_enter's arguments: (struct pt_regs *regs, long id).
    let text = format!(
        "r6 = *(u64 *)(r1 + 8)\nif r6 != {} goto skip\ncall bpf_get_current_pid_tgid\n{COUNT_IF_THIS_THREAD}\nskip:\nr0 = 0\nexit",
        libc::SYS_getppid
    );
    let program = load(
        "raw_getppid",
        ProgramType::RAW_TRACEPOINT,
        text.parse().unwrap(),
        &state,
    );
    let link = program.attach_raw_tracepoint("sys_enter").unwrap();
    assert_eq!(link.target(), "raw tracepoint `sys_enter`");
    assert!(link.fd().is_some(), "a raw tracepoint link");
    counts_getppid_while_attached(&state, link);
}

#[test]
fn a_tracepoint_program_counts_this_threads_getppid_calls() {
    let state = state();
    count_for(&state, u64::from(tid()));
    let text = format!("call bpf_get_current_pid_tgid\n{COUNT_IF_THIS_THREAD}");
    let program = load(
        "tp_getppid",
        ProgramType::TRACEPOINT,
        text.parse().unwrap(),
        &state,
    );
    let link = program
        .attach_tracepoint("syscalls", "sys_enter_getppid")
        .unwrap();
    counts_getppid_while_attached(&state, link);

    let err = program
        .attach_tracepoint("syscalls", "sys_enter_no_such_call")
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");
    assert!(
        err.to_string().starts_with(
            "attaching program `tp_getppid` to tracepoint `syscalls:sys_enter_no_such_call`"
        ),
        "{err}"
    );
}

/// Counts the frames of the test's EtherType (0x88b5, read little-endian).
fn xdp_counter() -> Instructions {
    asm! {
        r2 = *(u32 *)(r1 + 0)          // data
        r3 = *(u32 *)(r1 + 4)          // data_end
        r4 = r2
        r4 += 14
        if r4 > r3 goto out
        r5 = *(u16 *)(r2 + 12)
        if r5 != 0xb588 goto out
        r1 = map_value(state) ll
        r2 = 1
        lock *(u64 *)(r1 + 8) += r2
      out:
        r0 = 2                         // XDP_PASS
        exit
    }
}

/// The same for tc: `skb->protocol` holds the EtherType in network order.
fn tcx_counter() -> Instructions {
    asm! {
        r2 = *(u32 *)(r1 + 16)         // skb->protocol
        if r2 != 0xb588 goto out
        r1 = map_value(state) ll
        r2 = 1
        lock *(u64 *)(r1 + 8) += r2
      out:
        r0 = -1                        // TCX_NEXT
        exit
    }
}

#[test]
fn xdp_and_tcx_programs_count_the_frames_of_a_veth() {
    in_new_netns(|| {
        let (a, b) = veth("hw0", "hw1");
        let (xdp_state, tcx_state) = (state(), state());
        let xdp = load("xdp_count", ProgramType::XDP, xdp_counter(), &xdp_state);
        let tcx = ProgramBuilder::new("tcx_count", ProgramType::SCHED_CLS, tcx_counter())
            .expected_attach_type(AttachType::TCX_INGRESS)
            .map("state", &tcx_state)
            .load()
            .unwrap();
        let xdp_link = xdp.attach_xdp(b).unwrap();
        // Before 6.6 the kernel has no tcx hook for any program: xdp alone
        // counts there.
        let tcx_link = if kernel().has(Feature::Tcx) {
            Some(tcx.attach_tcx(b).unwrap())
        } else {
            assert_tcx_refused(tcx.attach_tcx(b), "tcx_count");
            None
        };
        let tcx_counts = if tcx_link.is_some() { 12 } else { 0 };
        let sender = FrameSender::new(a);
        for _ in 0..12 {
            sender.send(&[0; 46]);
        }
        let arrived = || count(&xdp_state) == 12 && count(&tcx_state) == tcx_counts;
        assert!(
            ebpf_skeleton_tests::eventually(Duration::from_secs(5), arrived),
            "xdp counted {}, tcx {}",
            count(&xdp_state),
            count(&tcx_state)
        );
        drop((xdp_link, tcx_link));
        for _ in 0..3 {
            sender.send(&[0; 46]);
        }
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!((count(&xdp_state), count(&tcx_state)), (12, tcx_counts));
        if tcx_counts == 0 {
            return;
        }

        // tcx attaches a program loaded for a tcx hook only.
        let plain = load(
            "tc_plain",
            ProgramType::SCHED_CLS,
            tcx_counter(),
            &tcx_state,
        );
        let err = plain.attach_tcx(b).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "the program was loaded without an expected attach type: load it with \
                 `tcx_ingress` or `tcx_egress` (ProgramBuilder::expected_attach_type)"
            ),
            "{err}"
        );
    });
}

/// cgroup_skb egress on the root cgroup, counting the packets of one
/// socket (by its cookie, which the program reads from each packet).
#[test]
fn a_cgroup_program_counts_one_sockets_packets() {
    let state = state();
    let program = asm! {
        call bpf_get_socket_cookie     // of the packet's socket (r1: the skb)
        r1 = map_value(state) ll
        r2 = *(u64 *)(r1 + 0)
        if r0 != r2 goto out
        r2 = 1
        lock *(u64 *)(r1 + 8) += r2
      out:
        r0 = 1                         // let it go
        exit
    };
    let egress = ProgramBuilder::new("egress_count", ProgramType::CGROUP_SKB, program.clone())
        .expected_attach_type(AttachType::CGROUP_INET_EGRESS)
        .map("state", &state)
        .load()
        .unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    count_for(&state, socket_cookie(&tx).unwrap());
    let cgroup = std::fs::File::open(cgroup2_root()).unwrap();
    let link = egress.attach_cgroup(&cgroup).unwrap();
    let send = |n: usize| {
        for _ in 0..n {
            tx.send_to(b"counted", rx.local_addr().unwrap()).unwrap();
        }
    };
    send(9);
    assert_eq!(count(&state), 9);
    drop(link);
    send(4);
    assert_eq!(count(&state), 9);

    // Without the hook it was loaded for, the kernel cannot be asked.
    let unsaid = ProgramBuilder::new("egress_count", ProgramType::CGROUP_SKB, program)
        .map("state", &state)
        .load()
        .unwrap();
    let err = unsaid.attach_cgroup(&cgroup).unwrap_err();
    assert!(matches!(err, Error::Attach { .. }), "{err:?}");
}

/// A socket filter that drops the datagrams of 3 bytes (11 with the UDP
/// header the filter sees) and counts every one it sees.
#[test]
fn a_socket_filter_drops_what_it_returns_zero_for() {
    let state = state();
    let program = asm! {
        r6 = *(u32 *)(r1 + 0)          // skb->len
        r1 = map_value(state) ll
        r2 = 1
        lock *(u64 *)(r1 + 8) += r2
        r0 = 0
        if r6 == 11 goto out
        r0 = r6                        // keep it all
      out:
        exit
    };
    let filter = load("drop3", ProgramType::SOCKET_FILTER, program, &state);
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let link = filter.attach_socket(&rx).unwrap();
    assert!(link.fd().is_none(), "a socket filter has no BPF link");
    for payload in [&b"12345"[..], b"abc", b"1234567"] {
        tx.send_to(payload, rx.local_addr().unwrap()).unwrap();
    }
    let mut buf = [0u8; 16];
    let mut received = Vec::new();
    while let Ok(n) = rx.recv(&mut buf) {
        received.push(buf[..n].to_vec());
    }
    assert_eq!(received, [b"12345".to_vec(), b"1234567".to_vec()]);
    assert_eq!(count(&state), 3);

    drop(link);
    tx.send_to(b"abc", rx.local_addr().unwrap()).unwrap();
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"abc");
    assert_eq!(count(&state), 3);
}

#[test]
fn what_a_program_of_no_object_cannot_attach_to_says_so() {
    let state = state();
    let program = load(
        "tp_nothing",
        ProgramType::TRACEPOINT,
        "r0 = 0x0\nexit".parse().unwrap(),
        &state,
    );
    let err = program.attach().unwrap_err();
    assert!(
        err.to_string()
            .contains("a program of no object has no section to name its hook"),
        "{err}"
    );
    let uprobe = ebpf_skeleton::link::Uprobe::entry("/proc/self/exe").function("main");
    let err = program.attach_uprobe(&uprobe).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("cannot attach to kprobes, uprobes or USDT probes yet"),
        "{err}"
    );
}
