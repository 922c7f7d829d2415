//! The maps XDP programs redirect through, on veth pairs made in a network
//! namespace of each test: frames sent into `a` reach the XDP program on
//! its peer `b`, which redirects them through the map Rust filled; they
//! arrive out of `c` at its peer `d` (`DevMap` 4.14, `DevMapHash` 5.4, with
//! entry programs 5.8), on another CPU (`CpuMap` 4.15, entry programs 5.9),
//! or in an AF_XDP socket bound to `b` (`XskMap` 4.18).

use std::time::Duration;

use ebpf_skeleton::{
    ebpf_skeleton, possible_cpus, CpuMap, DevMap, DevMapHash, Link, Objects, XskMap,
};
use ebpf_skeleton_tests::eventually;
use ebpf_skeleton_tests::net::{in_new_netns, veth, FrameSender, XdpSocket};

ebpf_skeleton!("../bpf/redirect.bpf.o");

const FRAMES: u64 = 16;

/// The interfaces of a test: `a`-`b` and `c`-`d`.
struct Net {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}

fn two_pairs() -> Net {
    let (a, b) = veth("a", "b");
    let (c, d) = veth("c", "d");
    Net { a, b, c, d }
}

/// Sends `n` test frames into `a`, numbered.
fn send_frames(a: u32, n: u64) {
    let sender = FrameSender::new(a);
    for i in 0..n {
        sender.send(&[b"redirect".as_slice(), &i.to_ne_bytes()].concat());
    }
}

/// Sends `n` test frames into `a` and waits (at most 5 s) until `counter`
/// has gone up by `n`.
fn send_and_see(a: u32, n: u64, counter: impl Fn() -> u64, what: &str) {
    let before = counter();
    send_frames(a, n);
    let seen = eventually(Duration::from_secs(5), || counter() >= before + n);
    assert!(seen, "{what}: {} of {n} frames", counter() - before);
}

fn attach(program: &ebpf_skeleton::Program, ifindex: u32) -> Link {
    program
        .attach_xdp(ifindex)
        .unwrap_or_else(|e| panic!("attach {}: {e}", program.name()))
}

#[test]
fn a_dev_map_sends_frames_out_of_the_interface_rust_put_there() {
    in_new_netns(|| {
        let net = two_pairs();
        let objs = redirect::Objects::load().expect("load");
        let devs: &DevMap = &objs.maps.devs;
        devs.set(0, net.c).unwrap();
        let entry = devs.get(0).unwrap().unwrap();
        assert_eq!((entry.ifindex, entry.program_id), (net.c, None));
        let _arrive = attach(&objs.programs.count_arrivals, net.d);
        let _redirect = attach(&objs.programs.to_dev, net.b);
        send_and_see(net.a, FRAMES, || objs.bss.arrived.get(), "arrived");
        assert_eq!(objs.bss.redirected.get(), FRAMES);

        // An empty slot: the program's redirect fails, nothing arrives.
        devs.remove(0).unwrap();
        assert_eq!(devs.get(0).unwrap(), None);
        send_and_see(net.a, 4, || objs.bss.redirected.get(), "redirected");
        assert_eq!(objs.bss.arrived.get(), FRAMES);
        // A map of bare ifindexes holds no programs.
        let err = devs
            .set_with_program(0, net.c, &objs.programs.on_egress)
            .unwrap_err();
        assert!(err.to_string().contains("devs"), "{err}");
    });
}

#[test]
fn a_dev_map_entry_runs_its_program_on_the_way_out() {
    in_new_netns(|| {
        let net = two_pairs();
        let objs = redirect::Objects::load().expect("load");
        let devs = &objs.maps.devs_with_progs;
        devs.set_with_program(0, net.c, &objs.programs.on_egress)
            .unwrap();
        // The kernel says which program it holds.
        let entry = devs.get(0).unwrap().unwrap();
        assert_eq!(entry.ifindex, net.c);
        assert_eq!(
            entry.program_id,
            Some(objs.programs.on_egress.id().unwrap())
        );
        let _arrive = attach(&objs.programs.count_arrivals, net.d);
        let _redirect = attach(&objs.programs.to_dev_with_prog, net.b);
        send_and_see(net.a, FRAMES, || objs.bss.arrived.get(), "arrived");
        assert_eq!(objs.bss.egress_runs.get(), FRAMES);
        assert_eq!(objs.bss.egress_ifindex.get(), net.c);
        // Without the program: the frames still go, unseen by it.
        devs.set(0, net.c).unwrap();
        assert_eq!(devs.get(0).unwrap().unwrap().program_id, None);
        send_and_see(net.a, 4, || objs.bss.arrived.get(), "arrived");
        assert_eq!(objs.bss.egress_runs.get(), FRAMES);
    });
}

#[test]
fn a_dev_map_hash_redirects_by_key() {
    in_new_netns(|| {
        let net = two_pairs();
        let objs = redirect::Objects::load().expect("load");
        let hash: &DevMapHash = &objs.maps.dev_hash;
        hash.set(1234, net.c).unwrap();
        hash.set(7, net.a).unwrap();
        let mut keys: Vec<u32> = hash.keys().map(Result::unwrap).collect();
        keys.sort();
        assert_eq!(keys, [7, 1234]);
        let _arrive = attach(&objs.programs.count_arrivals, net.d);
        let _redirect = attach(&objs.programs.to_dev_hash, net.b);
        send_and_see(net.a, FRAMES, || objs.bss.arrived.get(), "arrived");
        assert!(hash.remove(7).unwrap());
        assert!(!hash.remove(7).unwrap());
    });
}

#[test]
fn a_cpu_map_hands_frames_to_its_cpu_and_program() {
    in_new_netns(|| {
        let net = two_pairs();
        let objs = redirect::Objects::load().expect("load");
        let cpus: &CpuMap = &objs.maps.cpus;
        let target = possible_cpus().unwrap() as u32 - 1;
        cpus.set_with_program(target, 64, &objs.programs.on_cpu)
            .unwrap();
        let entry = cpus.get(target).unwrap().unwrap();
        assert_eq!(entry.queue_size, 64);
        assert_eq!(entry.program_id, Some(objs.programs.on_cpu.id().unwrap()));
        objs.bss.target_cpu.set(target);
        let _redirect = attach(&objs.programs.to_cpu, net.b);
        send_and_see(net.a, FRAMES, || objs.bss.cpu_runs.get(), "cpu_runs");
        assert_eq!(objs.bss.cpu_seen.get(), target);
        cpus.remove(target).unwrap();
        assert_eq!(cpus.get(target).unwrap(), None);
        // A CPU that does not exist has no queue.
        assert!(cpus.set(cpus.len(), 64).is_err());
    });
}

#[test]
fn an_xsk_map_delivers_frames_to_the_af_xdp_socket_rust_put_there() {
    in_new_netns(|| {
        let (a, b) = veth("a", "b");
        let objs = redirect::Objects::load().expect("load");
        // The program must be on `b` before an AF_XDP socket binds there.
        let _redirect = attach(&objs.programs.to_xsk, b);
        let mut socket = XdpSocket::bind(b, 0);
        let xsks: &XskMap = &objs.maps.xsks;
        xsks.set(0, &socket).unwrap();
        send_frames(a, FRAMES);
        let mut frames = Vec::new();
        let all_in = eventually(Duration::from_secs(5), || {
            frames.extend(socket.received());
            frames.len() as u64 >= FRAMES
        });
        assert!(
            all_in,
            "{} of {FRAMES} frames received, {} redirected",
            frames.len(),
            objs.bss.redirected.get()
        );
        assert_eq!(frames.len() as u64, FRAMES);
        for (i, frame) in frames.iter().enumerate() {
            assert_eq!(&frame[12..14], &0x88b5u16.to_be_bytes());
            assert_eq!(&frame[14..22], b"redirect");
            assert_eq!(&frame[22..30], &(i as u64).to_ne_bytes(), "in order");
        }
        // The program found the socket in the map, bound to queue 0.
        assert_eq!(objs.bss.xsk_found.get(), 1);
        // Empty again: frames go nowhere.
        objs.maps.xsks.remove(0).unwrap();
        send_and_see(a, 2, || objs.bss.redirected.get(), "redirected");
        assert!(socket.received().is_empty());
    });
}

/// The derive takes each redirect map as its own typed field.
#[derive(Objects)]
#[ebpf(object = "../bpf/redirect.bpf.o")]
struct Redirects {
    devs: DevMap,
    dev_hash: DevMapHash,
    cpus: CpuMap,
    xsks: XskMap,
}

#[test]
fn derived_fields_are_redirect_maps() {
    let maps = Redirects::load().expect("load the maps alone");
    assert_eq!(maps.devs.capacity(), 4);
    assert_eq!(maps.dev_hash.keys().count(), 0);
    assert_eq!((maps.cpus.len(), maps.xsks.len()), (64, 4));
}
