//! Hooks of a network namespace, each in a namespace made for the test: an
//! sk_lookup program steering connections to a listener on another port, a
//! flow dissector run by a packet socket that fans out by flow hash, and a netfilter program
//! that drops what the namespace sends; and lirc_mode2, which needs a lirc
//! device no machine here has.

use std::fs::File;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use ebpf_skeleton::link::{LinkDetail, NetfilterFamily, NetfilterHook, NetfilterOptions};
use ebpf_skeleton::{ebpf_skeleton, AttachType, Error};
use ebpf_skeleton_tests::kernel::kernel;
use ebpf_skeleton_tests::net::{in_new_netns, loopback_up, veth, FrameSender};
use ebpf_skeleton_tests::{eventually, kconfig};

ebpf_skeleton!("../bpf/netns_hooks.bpf.o");
ebpf_skeleton!("../bpf/netfilter.bpf.o");
ebpf_skeleton!("../bpf/lirc.bpf.o");

/// Slots of `hits`, as in netns_hooks.bpf.c.
const STEERED: u32 = 0;
const DISSECTED: u32 = 1;
/// Slots of netfilter.bpf.c's `hits`.
const FILTERED: u32 = 0;
const DROPPED: u32 = 1;

fn hits(objs: &netns_hooks::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

/// The inode number of the calling thread's network namespace.
fn netns_inode() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

#[test]
fn sk_lookup_steers_a_connection_to_a_listener_on_another_port() {
    let objs = netns_hooks::Objects::load().unwrap();
    in_new_netns(|| {
        loopback_up();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        objs.maps.listeners.set(0, &listener).unwrap();
        // A port nothing listens on in a namespace of the test's own.
        let elsewhere: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        objs.bss.steer_port.set(u32::from(elsewhere.port()));
        assert_eq!(
            TcpStream::connect(elsewhere).unwrap_err().kind(),
            std::io::ErrorKind::ConnectionRefused
        );

        let netns = File::open("/proc/thread-self/ns/net").unwrap();
        let link = objs.programs.steer.attach_netns(&netns).unwrap();
        let client = TcpStream::connect(elsewhere).unwrap();
        let (server, from) = listener.accept().unwrap();
        assert_eq!(from, client.local_addr().unwrap());
        assert_eq!(server.local_addr().unwrap(), elsewhere, "it was asked for");
        assert_eq!(hits(&objs, STEERED), 1);
        assert_eq!(
            link.info().unwrap().detail,
            LinkDetail::Netns {
                netns_inode: netns_inode() as u32,
                attach_type: AttachType::SK_LOOKUP
            }
        );

        // Detached: refused again.
        drop(link);
        assert_eq!(
            TcpStream::connect(elsewhere).unwrap_err().kind(),
            std::io::ErrorKind::ConnectionRefused
        );
        assert_eq!(hits(&objs, STEERED), 1);
    });
}

#[test]
fn a_flow_dissector_of_the_namespace_dissects_what_a_fanout_hashes() {
    let objs = netns_hooks::Objects::load().unwrap();
    in_new_netns(|| {
        let (a, b) = veth("fa", "fb");
        // A packet socket in a hash fanout group hashes every packet's flow
        // it receives, which runs the dissector.
        let _fanout = hash_fanout_socket(b);
        let link = objs.programs.dissect.attach_own_netns().unwrap();
        let sender = FrameSender::new(a);
        for _ in 0..5 {
            sender.send(b"flow");
        }
        assert!(
            eventually(Duration::from_secs(5), || hits(&objs, DISSECTED) >= 5),
            "{} dissected",
            hits(&objs, DISSECTED)
        );
        assert_eq!(
            link.info().unwrap().detail,
            LinkDetail::Netns {
                netns_inode: netns_inode() as u32,
                attach_type: AttachType::FLOW_DISSECTOR
            }
        );
        // One flow dissector a namespace.
        let err = objs.programs.dissect.attach_own_netns().unwrap_err();
        assert_eq!(err.errno(), Some(libc::E2BIG), "{err}");
    });
}

/// A packet socket on the interface `ifindex`, in a fanout group that
/// spreads packets by the hash of their flow.
fn hash_fanout_socket(ifindex: u32) -> OwnedFd {
    let all = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain system calls; the descriptor is owned right away, and
    // the address and option outlive the calls that read them.
    unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            all.into(),
        );
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_ll = std::mem::zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = all;
        addr.sll_ifindex = ifindex as i32;
        let ret = libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as u32,
        );
        assert_eq!(ret, 0, "bind: {}", std::io::Error::last_os_error());
        let group: libc::c_int = 7 | (libc::PACKET_FANOUT_HASH as libc::c_int) << 16;
        let ret = libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_FANOUT,
            (&group as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as u32,
        );
        assert_eq!(ret, 0, "PACKET_FANOUT: {}", std::io::Error::last_os_error());
        fd
    }
}

#[test]
fn a_netfilter_program_drops_what_the_namespace_sends() {
    let loaded = netfilter::Objects::load();
    if !kernel().at_least(6, 4) {
        // No netfilter programs before 6.4.
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "filter"),
            "{err}"
        );
        return;
    }
    let objs = loaded.unwrap();
    let hits = |slot: u32| objs.maps.hits.get(slot).unwrap().unwrap();
    in_new_netns(|| {
        loopback_up();
        let hook =
            NetfilterOptions::new(NetfilterFamily::Ipv4, NetfilterHook::LocalOut).priority(-100);
        let link = objs.programs.filter.attach_netfilter(&hook).unwrap();
        assert_eq!(
            link.info().unwrap().detail,
            LinkDetail::Netfilter {
                protocol_family: 2,
                hook: 3,
                priority: -100,
                flags: 0
            }
        );
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        tx.send_to(b"pass", to).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(rx.recv(&mut buf).unwrap(), 4);
        assert_eq!(hits(FILTERED), 1);

        // Dropped on the way out: the sender is told.
        objs.bss.drop.set(1);
        let err = tx.send_to(b"drop", to).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
        assert_eq!((hits(FILTERED), hits(DROPPED)), (2, 1));

        // Two programs cannot share a priority.
        let err = objs.programs.filter.attach_netfilter(&hook).unwrap_err();
        assert_eq!(err.errno(), Some(libc::EBUSY), "{err}");
        // Detached: what the namespace sends passes, and the program sees
        // none of it once the kernel has let go of it (the unhook waits for
        // packets in flight, so one may still be seen just after).
        objs.bss.drop.set(0);
        drop(link);
        let unseen = eventually(Duration::from_secs(5), || {
            let before = hits(FILTERED);
            tx.send_to(b"back", to).unwrap();
            assert_eq!(rx.recv(&mut buf).unwrap(), 4);
            hits(FILTERED) == before
        });
        assert!(unseen, "the detached program still ran");
        assert_eq!(hits(DROPPED), 1);
    });
}

#[test]
fn lirc_mode2_needs_a_lirc_device() {
    let loaded = lirc::Objects::load();
    if !kconfig::enabled("BPF_LIRC_MODE2") {
        // The kernel has no lirc_mode2 programs at all.
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "decode"),
            "{err}"
        );
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        return;
    }
    // No machine here has a lirc device: anything else is refused.
    let objs = loaded.unwrap();
    let not_lirc = File::open("/dev/null").unwrap();
    let err = objs
        .programs
        .decode
        .attach_lirc_mode2(&not_lirc)
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert!(
        err.to_string()
            .contains("the descriptor is not a lirc device"),
        "{err}"
    );
}
