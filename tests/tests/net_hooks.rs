//! Network hooks attached with their options, each in a network namespace
//! of its own with a veth pair: XDP in each mode and its atomic update, tcx
//! programs placed in order (and the revision that guards it), legacy tc
//! filters by priority on ingress and egress, netkit, and a socket filter
//! on a UDP socket. Frames are sent into one end of the pair and counted at
//! the other.

use std::net::UdpSocket;
use std::time::Duration;

use ebpf_skeleton::link::{
    query_interface, query_xdp, LinkDetail, LinkType, NetkitOptions, Placement, TcOptions,
    TcxOptions, XdpMode, XdpOptions,
};
use ebpf_skeleton::{ebpf_skeleton, AttachType, Program};
use ebpf_skeleton_tests::kernel::{assert_tcx_refused, kernel, Feature};
use ebpf_skeleton_tests::net::{in_new_netns, veth, FrameSender};
use ebpf_skeleton_tests::{eventually, kconfig};

ebpf_skeleton!("../bpf/net_hooks.bpf.o");

/// Slots of `hits`, as in net_hooks.bpf.c.
const XDP: u32 = 0;
const TCX_A: u32 = 1;
const TCX_B: u32 = 2;
const TCX_DROP: u32 = 3;
const TC_DROPPED: u32 = 4;
const TC_SEEN: u32 = 5;
const TC_OTHER: u32 = 6;
const TC_EGRESS: u32 = 7;
const NETKIT: u32 = 8;
const FILTER_SEEN: u32 = 9;
const FILTER_DROPPED: u32 = 10;

fn hits(objs: &net_hooks::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

/// Sends each payload as a frame out of `from` and waits until `slot`
/// counted `expected` (frames arrive at the peer asynchronously), then a
/// little longer, to see that no more come.
fn send_and_count(
    objs: &net_hooks::Objects,
    from: u32,
    payloads: &[&[u8]],
    slot: u32,
    expected: u64,
) {
    let sender = FrameSender::new(from);
    for payload in payloads {
        sender.send(payload);
    }
    eventually(Duration::from_secs(5), || hits(objs, slot) >= expected);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(hits(objs, slot), expected, "slot {slot}");
}

/// The program ids of the tcx ingress programs of `ifindex`, in order.
fn tcx_order(ifindex: u32) -> Vec<u32> {
    query_interface(ifindex, AttachType::TCX_INGRESS)
        .unwrap()
        .programs
        .iter()
        .map(|p| p.program_id)
        .collect()
}

fn id(program: &Program) -> u32 {
    program.id().unwrap()
}

#[test]
fn xdp_runs_in_the_mode_asked_for_and_takes_another_program_atomically() {
    let objs = net_hooks::Objects::load().unwrap();
    in_new_netns(|| {
        let (a, b) = veth("xa", "xb");
        let xdp = &objs.programs.xdp_count;

        // veth has XDP in its driver: native mode.
        let link = xdp
            .attach_xdp_with(b, &XdpOptions::new().mode(XdpMode::Driver))
            .unwrap();
        assert_eq!(
            link.target(),
            format!("driver XDP of interface `xb` (index {b})")
        );
        let query = query_xdp(b).unwrap();
        assert_eq!(query.mode, Some(XdpMode::Driver));
        assert_eq!(query.driver_program_id, id(xdp));
        assert_eq!(query.generic_program_id, 0);
        assert_eq!(link.info().unwrap().detail, LinkDetail::Xdp { ifindex: b });
        send_and_count(&objs, a, &[b"1", b"2", b"3"], XDP, 3);
        drop(link);
        assert_eq!(query_xdp(b).unwrap().mode, None);

        // Generic mode, on the same interface.
        let mut link = xdp
            .attach_xdp_with(b, &XdpOptions::new().mode(XdpMode::Generic))
            .unwrap();
        let query = query_xdp(b).unwrap();
        assert_eq!(query.mode, Some(XdpMode::Generic));
        assert_eq!(query.generic_program_id, id(xdp));
        send_and_count(&objs, a, &[b"4", b"5"], XDP, 5);

        // Atomic replacement: the interface runs the new program from the
        // next frame on and never runs none.
        // (Not to a program of another type, though.)
        let err = link.update_program(&objs.programs.tcx_a).unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert_eq!(link.program(), "xdp_count");
        let other = net_hooks::Objects::load().unwrap();
        link.update_program(&other.programs.xdp_count).unwrap();
        assert_eq!(
            query_xdp(b).unwrap().generic_program_id,
            id(&other.programs.xdp_count)
        );
        send_and_count(&other, a, &[b"6", b"7"], XDP, 2);
        assert_eq!(hits(&objs, XDP), 5, "the old program runs no more");

        // A second program in another mode is refused while one is there.
        let err = xdp
            .attach_xdp_with(b, &XdpOptions::new().mode(XdpMode::Driver))
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc::EEXIST), "{err}");
        drop(link);

        // veth cannot run a program offloaded to a NIC.
        let err = xdp
            .attach_xdp_with(b, &XdpOptions::new().mode(XdpMode::Offload))
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert!(
            err.to_string().starts_with(&format!(
                "attaching program `xdp_count` to offloaded XDP of interface `xb` (index {b})"
            )),
            "{err}"
        );
    });
}

#[test]
fn tcx_programs_run_in_the_order_they_were_placed() {
    let objs = net_hooks::Objects::load().unwrap();
    in_new_netns(|| {
        let (a, b) = veth("ta", "tb");
        let p = &objs.programs;
        if !kernel().has(Feature::Tcx) {
            // Before 6.6: neither the plain nor a placed attach, and the
            // error names the version needed.
            assert_tcx_refused(p.tcx_b.attach_tcx(b), "tcx_b");
            let err = p
                .tcx_a
                .attach_tcx_with(b, &TcxOptions::new().placement(Placement::first()))
                .unwrap_err();
            assert!(
                err.to_string().ends_with(&format!(
                    "tcx needs Linux 6.6 or later and this kernel is {}: attach with legacy tc \
                     instead",
                    kernel().release
                )),
                "{err}"
            );
            return;
        }
        let link_b = p.tcx_b.attach_tcx(b).unwrap();
        let link_a = p
            .tcx_a
            .attach_tcx_with(b, &TcxOptions::new().placement(Placement::first()))
            .unwrap();
        assert_eq!(tcx_order(b), [id(&p.tcx_a), id(&p.tcx_b)]);
        send_and_count(&objs, a, &[b"1"], TCX_B, 1);
        assert_eq!(hits(&objs, TCX_A), 1);

        // A dropping program placed between them: the last never sees the
        // frames.
        let revision = query_interface(b, AttachType::TCX_INGRESS)
            .unwrap()
            .revision;
        let placement = Placement::after_link(&link_a).expected_revision(revision);
        let drop_link = p
            .tcx_drop
            .attach_tcx_with(b, &TcxOptions::new().placement(placement))
            .unwrap();
        assert_eq!(
            drop_link.target(),
            format!("tcx ingress of interface `tb` (index {b}), after the link of program `tcx_a`")
        );
        assert_eq!(tcx_order(b), [id(&p.tcx_a), id(&p.tcx_drop), id(&p.tcx_b)]);
        let attached = query_interface(b, AttachType::TCX_INGRESS).unwrap();
        assert_eq!(attached.revision, revision + 1);
        assert_eq!(attached.programs[1].link_id, Some(drop_link.id().unwrap()));
        send_and_count(&objs, a, &[b"2", b"3"], TCX_DROP, 2);
        assert_eq!((hits(&objs, TCX_A), hits(&objs, TCX_B)), (3, 1));

        // A placement made against a revision that has moved on is refused.
        let err = p
            .tcx_b
            .attach_tcx_with(
                b,
                &TcxOptions::new().placement(Placement::last().expected_revision(revision)),
            )
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc::ESTALE), "{err}");

        // Before a program, by the program. (Detached first: a dropped
        // link stays attached while a child another test forks still holds
        // a copy of its descriptor, until that child execs.)
        drop_link.detach().unwrap();
        drop(drop_link);
        let second_a = net_hooks::Objects::load().unwrap();
        let _before_b = second_a
            .programs
            .tcx_a
            .attach_tcx_with(b, &TcxOptions::new().placement(Placement::before(&p.tcx_b)))
            .unwrap();
        assert_eq!(
            tcx_order(b),
            [id(&p.tcx_a), id(&second_a.programs.tcx_a), id(&p.tcx_b)]
        );
        let info = link_b.info().unwrap();
        assert_eq!(info.link_type, LinkType::TCX);
        assert_eq!(
            info.detail,
            LinkDetail::Tcx {
                ifindex: b,
                attach_type: AttachType::TCX_INGRESS
            }
        );
    });
}

#[test]
fn legacy_tc_filters_run_by_priority_on_ingress_and_egress() {
    let objs = net_hooks::Objects::load().unwrap();
    in_new_netns(|| {
        let (a, b) = veth("ca", "cb");
        let p = &objs.programs;
        let count = p
            .tc_count
            .attach_tc(b, &TcOptions::ingress().priority(2).handle(1))
            .unwrap();
        let dropper = p
            .tc_drop_d
            .attach_tc(b, &TcOptions::ingress().priority(1).handle(1))
            .unwrap();
        assert_eq!(
            dropper.target(),
            format!("tc ingress of interface `cb` (index {b}), handle 0x1, priority 1")
        );
        assert!(count.fd().is_none(), "a tc filter is no BPF link");
        // Frames starting with 'd' are dropped by priority 1; the others
        // go on to priority 2.
        send_and_count(&objs, a, &[b"d1", b"k1", b"d2", b"k2", b"k3"], TC_SEEN, 3);
        assert_eq!(hits(&objs, TC_DROPPED), 2);

        // The same place again is refused, unless replacing.
        let err = p
            .tc_count_other
            .attach_tc(b, &TcOptions::ingress().priority(2).handle(1))
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc::EEXIST), "{err}");

        // The filter's program swapped in place.
        let mut count = count;
        count.update_program(&p.tc_count_other).unwrap();
        assert_eq!(count.program(), "tc_count_other");
        send_and_count(&objs, a, &[b"k4", b"d3"], TC_OTHER, 1);
        assert_eq!((hits(&objs, TC_SEEN), hits(&objs, TC_DROPPED)), (3, 3));

        // Detached: the frames pass untouched.
        count.detach().unwrap();
        drop(dropper);
        send_and_count(&objs, a, &[b"d4", b"k5"], TC_OTHER, 1);
        assert_eq!(hits(&objs, TC_DROPPED), 3);
        drop(count);

        // Egress of the sending end; the kernel picks priority and handle.
        let egress = p.tc_egress.attach_tc(a, &TcOptions::egress()).unwrap();
        assert!(
            egress.target().starts_with(&format!(
                "tc egress of interface `ca` (index {a}), handle 0x"
            )),
            "{}",
            egress.target()
        );
        send_and_count(&objs, a, &[b"e1", b"e2"], TC_EGRESS, 2);

        // Replacing takes the place of the filter there: the frames go to
        // the new program, and the old one sees none.
        let first = p
            .tc_count
            .attach_tc(b, &TcOptions::ingress().priority(3).handle(1))
            .unwrap();
        let replacing = p
            .tc_count_other
            .attach_tc(b, &TcOptions::ingress().priority(3).handle(1).replace())
            .unwrap();
        send_and_count(&objs, a, &[b"k6", b"k7"], TC_OTHER, 3);
        assert_eq!(hits(&objs, TC_SEEN), 3);
        drop(replacing);
        drop(first);

        // Only sched_cls programs are tc filters.
        let err = p.xdp_count.attach_tc(b, &TcOptions::ingress()).unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert!(
            err.to_string()
                .contains("the kernel takes only sched_cls programs as tc filters"),
            "{err}"
        );
    });
}

/// Whether this kernel was built with netkit (`CONFIG_NETKIT`).
fn kernel_has_netkit() -> bool {
    kconfig::enabled("NETKIT")
}

#[test]
fn netkit_runs_its_primary_program() {
    let objs = net_hooks::Objects::load().unwrap();
    let netkit = &objs.programs.netkit_count;
    in_new_netns(|| {
        if kernel_has_netkit() {
            // (No peer arguments: iproute2 before 6.7 knows no netkit
            // options; the kernel names the peer `nk%d`, so the primary
            // is named otherwise.)
            let out = std::process::Command::new("ip")
                .args(["link", "add", "kit0", "type", "netkit"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "ip link add kit0 type netkit: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = std::process::Command::new("ip")
                .args(["-o", "link", "show"])
                .output()
                .unwrap();
            let links = String::from_utf8_lossy(&out.stdout).into_owned();
            let devices: Vec<&str> = links
                .lines()
                .filter_map(|l| l.split(": ").nth(1))
                .map(|d| d.split('@').next().unwrap())
                .collect();
            assert_eq!(devices.len(), 3, "lo, kit0 and its peer: {devices:?}");
            for dev in &devices[1..] {
                let up = std::process::Command::new("ip")
                    .args(["link", "set", dev, "up"])
                    .status()
                    .unwrap();
                assert!(up.success());
            }
            let primary = ebpf_skeleton_tests::net::ifindex("kit0");
            let link = netkit
                .attach_netkit(primary, &NetkitOptions::primary())
                .unwrap();
            assert_eq!(
                link.info().unwrap().detail,
                LinkDetail::Netkit {
                    ifindex: primary,
                    attach_type: AttachType::NETKIT_PRIMARY
                }
            );
            // What the primary sends runs its program.
            let sender = FrameSender::new(primary);
            for _ in 0..3 {
                sender.send(b"n");
            }
            assert!(eventually(Duration::from_secs(5), || hits(&objs, NETKIT) >= 3));
        } else {
            // This kernel has no netkit: the attach type is refused.
            let (a, _) = veth("na", "nb");
            let err = netkit
                .attach_netkit(a, &NetkitOptions::primary())
                .unwrap_err();
            assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
            assert!(
                err.to_string().starts_with(&format!(
                    "attaching program `netkit_count` to netkit primary of interface `na` \
                     (index {a}), last"
                )),
                "{err}"
            );
        }
    });
}

#[test]
fn a_socket_filter_drops_what_its_program_says() {
    let objs = net_hooks::Objects::load().unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let link = objs.programs.drop_x.attach_socket(&rx).unwrap();
    for payload in [&b"keep"[..], b"xdrop", b"also", b"xno"] {
        tx.send_to(payload, rx.local_addr().unwrap()).unwrap();
    }
    let mut buf = [0u8; 16];
    let mut got = Vec::new();
    for _ in 0..2 {
        let n = rx.recv(&mut buf).unwrap();
        got.push(buf[..n].to_vec());
    }
    assert_eq!(got, [b"keep".to_vec(), b"also".to_vec()]);
    assert_eq!(
        (hits(&objs, FILTER_SEEN), hits(&objs, FILTER_DROPPED)),
        (4, 2)
    );
    // Detached, the socket takes everything again.
    drop(link);
    tx.send_to(b"xnow", rx.local_addr().unwrap()).unwrap();
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"xnow");
    assert_eq!(hits(&objs, FILTER_SEEN), 4);
}
