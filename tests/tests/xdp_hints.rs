//! Programs loaded for a network device (`ProgramSpec::device`), in
//! network namespaces of their own with a veth pair:
//! - bound to the veth (Linux 6.3), an XDP program's receive-metadata kfunc
//!   is veth's: it gives the hash that the frame's socket buffer then
//!   carries into tc; the program attaches to no other interface and not
//!   in generic mode;
//! - unbound, the verifier rejects a program that calls it;
//! - offloaded, a veth (no BPF offload in its driver) refuses the load;
//! - bound to an interface that does not exist, the load is refused, and
//!   the error names the index.
//!
//! Before 6.3 the kernel has no such kfunc, and libbpf refuses the object.

use std::time::Duration;

use ebpf_skeleton::link::{TcOptions, XdpMode, XdpOptions};
use ebpf_skeleton::{ebpf_skeleton, Error, ProgramDevice, Result};
use ebpf_skeleton_tests::eventually;
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::net::{in_new_netns, veth, FrameSender};

ebpf_skeleton!("../bpf/xdp_hints.bpf.o");

/// On a kernel without the receive-metadata kfuncs (before 6.3), checks
/// that `loaded` is libbpf's refusal naming the kfunc, and returns `true`.
fn refused_without_kfunc<T: std::fmt::Debug>(loaded: &Result<T>) -> bool {
    if kernel().has(Feature::XdpMetadata) {
        return false;
    }
    match loaded {
        Err(err @ Error::Load { details, .. }) => {
            assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
            assert_eq!(
                details,
                "libbpf: extern (func ksym) 'bpf_xdp_metadata_rx_hash': not found in kernel or \
                 module BTFs"
            );
        }
        other => panic!(
            "kernel {} loaded xdp_hints.bpf.o: {other:?}",
            kernel().release
        ),
    }
    true
}

/// Sends one test frame out of `from` and waits until tc saw it behind XDP.
fn send_one(objs: &xdp_hints::Objects, from: u32) {
    FrameSender::new(from).send(b"h");
    assert!(
        eventually(Duration::from_secs(5), || objs.bss.tc_seen.get().frames
            == 1),
        "tc never saw the frame"
    );
}

#[test]
fn a_program_bound_to_a_veth_reads_the_receive_hash_tc_then_sees() {
    in_new_netns(|| {
        let (a, b) = veth("ha", "hb");
        let mut specs = xdp_hints::Specs::new().unwrap();
        specs.programs.xdp_hash.device = Some(ProgramDevice::Bound(b));
        let loaded = specs.load();
        if refused_without_kfunc(&loaded) {
            return;
        }
        let objs = loaded.unwrap();
        let xdp = &objs.programs.xdp_hash;

        // Bound to `hb`: not `ha`, and not in generic mode.
        for (ifindex, mode) in [(a, XdpMode::Driver), (b, XdpMode::Generic)] {
            let err = xdp
                .attach_xdp_with(ifindex, &XdpOptions::new().mode(mode))
                .unwrap_err();
            assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        }

        let _xdp = xdp
            .attach_xdp_with(b, &XdpOptions::new().mode(XdpMode::Driver))
            .unwrap();
        let _tc = objs
            .programs
            .tc_hash
            .attach_tc(b, &TcOptions::ingress())
            .unwrap();
        send_one(&objs, a);
        let (seen, tc) = (objs.bss.xdp_seen.get(), objs.bss.tc_seen.get());
        assert_eq!((seen.frames, seen.ret), (1, 0), "{seen:?}");
        // veth hashes the socket buffer (a flow hash is never 0) and
        // stores the hash in it, where tc reads it; the frame has no
        // transport header, so the hash is not an L4 one.
        assert_ne!(seen.hash, 0);
        assert_eq!(tc.hash, seen.hash);
        assert_eq!(seen.rss_type, 0, "XDP_RSS_TYPE_NONE");
    });
}

#[test]
fn unbound_an_xdp_program_may_not_read_receive_metadata() {
    let loaded = xdp_hints::Objects::load();
    if refused_without_kfunc(&loaded) {
        return;
    }
    match loaded {
        Err(err @ Error::ProgramLoad { .. }) => {
            assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
            let log = err.verifier_log().unwrap();
            assert!(
                log.starts_with("metadata kfuncs require device-bound program\n"),
                "{log}"
            );
            assert!(err.to_string().contains("`xdp_hash`"), "{err}");
        }
        other => panic!("an unbound xdp_hash loaded: {other:?}"),
    }
}

/// Loads `xdp_hash` for `device` and checks the kernel refuses it before
/// the verifier runs (EINVAL, no log), with an error that ends by naming
/// the device as `says`.
fn assert_refused_for(device: ProgramDevice, says: &str) {
    let mut specs = xdp_hints::Specs::new().unwrap();
    specs.programs.xdp_hash.device = Some(device);
    let loaded = specs.load();
    if refused_without_kfunc(&loaded) {
        return;
    }
    match &loaded {
        Err(err @ Error::ProgramLoad { details, .. }) => {
            assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
            assert_eq!(err.verifier_log(), Some(""));
            let named = format!("\nprogram `xdp_hash` was loaded {says}");
            assert!(details.ends_with(&named), "{err}");
        }
        other => panic!("xdp_hash loaded for {device:?}: {other:?}"),
    }
}

#[test]
fn a_veth_refuses_a_program_offloaded_to_it() {
    in_new_netns(|| {
        let (_, b) = veth("oa", "ob");
        assert_refused_for(
            ProgramDevice::Offloaded(b),
            &format!(
                "to be offloaded to interface `ob` (index {b}), which takes it only if its \
                 driver has BPF offload"
            ),
        );
    });
}

#[test]
fn a_program_bound_to_no_such_device_is_refused_naming_it() {
    in_new_netns(|| {
        assert_refused_for(
            ProgramDevice::Bound(999_999),
            "bound to interface index 999999 (XDP programs only, Linux 6.3 or later)",
        );
    });
}
