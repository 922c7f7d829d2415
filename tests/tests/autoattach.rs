//! `objs.attach()` attaches every program that can attach by itself and
//! leaves those that need a target: a tracepoint, a task iterator, and
//! (on the calling thread's network namespace) sk_lookup and a flow
//! dissector attach; a map iterator, XDP and a cgroup program do not.

use std::net::TcpStream;

use ebpf_skeleton::link::{LinkDetail, LinkType};
use ebpf_skeleton::{ebpf_skeleton, AttachType, Error};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::net::{in_new_netns, loopback_up};
use ebpf_skeleton_tests::{getppid_n, tid};

ebpf_skeleton!("../bpf/autoattach.bpf.o");

/// Slots of `hits`, as in autoattach.bpf.c.
const GETPPID: u32 = 0;
const LOOKUPS: u32 = 1;
const UNUSED: u32 = 2;

#[test]
fn attach_takes_every_program_that_attaches_by_itself() {
    let map_iterators = kernel().has(Feature::MapIterators);
    if !map_iterators {
        // This kernel refuses the map iterator: the rest loads without it.
        let err = autoattach::Objects::load().expect_err("a map iterator under lockdown");
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "each_elem"),
            "{err}"
        );
        assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
    }
    let mut specs = autoattach::Specs::new().unwrap();
    specs.programs.each_elem.autoload = map_iterators;
    let objs = specs.load().unwrap();
    in_new_netns(|| {
        loopback_up();
        objs.bss.target_tid.set(tid());
        let links = objs.attach().unwrap();
        let mut attached: Vec<&str> = links.iter().map(|l| l.program()).collect();
        attached.sort();
        assert_eq!(
            attached,
            ["on_dissect", "on_getppid", "on_lookup", "own_task"]
        );
        let hits = |slot| objs.maps.hits.get(slot).unwrap().unwrap();

        getppid_n(3);
        assert_eq!(hits(GETPPID), 3);

        let task = links.iter().find(|l| l.program() == "own_task").unwrap();
        assert_eq!(task.read_iter_to_string().unwrap(), format!("{}\n", tid()));

        // sk_lookup runs on this namespace's connection attempts.
        objs.bss.lookup_port.set(9);
        TcpStream::connect("127.0.0.1:9").unwrap_err();
        assert_eq!(hits(LOOKUPS), 1);
        let netns = std::fs::metadata("/proc/thread-self/ns/net").unwrap();
        let lookup = links.iter().find(|l| l.program() == "on_lookup").unwrap();
        let info = lookup.info().unwrap();
        assert_eq!(info.link_type, LinkType::NETNS);
        assert_eq!(
            info.detail,
            LinkDetail::Netns {
                netns_inode: std::os::unix::fs::MetadataExt::ino(&netns) as u32,
                attach_type: AttachType::SK_LOOKUP
            }
        );
        assert_eq!(hits(UNUSED), 0);
    });

    // The ones left need a target, and say so when attached without one.
    let mut left = vec![&objs.programs.on_xdp, &objs.programs.on_egress];
    if map_iterators {
        left.push(&objs.programs.each_elem);
    }
    for program in left {
        let err = program.attach().unwrap_err();
        assert!(matches!(err, Error::NoHook { .. }), "{err}");
    }
}
