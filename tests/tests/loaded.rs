//! Every program, map and link in the kernel, listed and opened by id
//! (`ebpf_skeleton::loaded`), against an independent reading of the
//! kernel's lists through libbpf's own calls.

use std::os::fd::AsRawFd;
use std::time::Duration;

use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::{ebpf_skeleton, loaded, HashMap, Link, Map, Program, ProgramType};
use ebpf_skeleton_tests::kernel::kernel;
use ebpf_skeleton_tests::{
    eventually, getppid_n, kernel_map_names, kernel_program_names, tid, u64_value,
};

ebpf_skeleton!("../bpf/counter.bpf.o");

/// The kernel's id of a link, read with libbpf directly.
fn link_id(link: &Link) -> u32 {
    let fd = link.fd().expect("a BPF link has a descriptor");
    let mut info = sys::bpf_link_info::default();
    let mut len = size_of_val(&info) as u32;
    // SAFETY: `info` is writable for `len` bytes.
    let rc = unsafe { sys::bpf_link_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) };
    assert_eq!(rc, 0);
    info.id
}

fn count(map: &HashMap<u32, u64>) -> u64 {
    map.get(&tid()).unwrap().unwrap_or(0)
}

#[test]
fn a_loaded_program_is_listed_and_opens_by_id() {
    let objs = counter::Objects::load().unwrap();
    let ours = &objs.programs.count_getppid;
    let id = ours.id().unwrap();

    let ids: Vec<u32> = loaded::program_ids().map(Result::unwrap).collect();
    assert!(ids.contains(&id), "{id} not in {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    let listed = loaded::programs()
        .map(Result::unwrap)
        .find(|p| p.id().unwrap() == id)
        .expect("our program among the kernel's");
    assert_eq!(listed.name(), "count_getppid");
    assert_eq!(listed.program_type(), ProgramType::TRACEPOINT);

    let opened = Program::from_id(id).unwrap();
    let (theirs, mine) = (opened.info().unwrap(), ours.info().unwrap());
    assert_eq!((theirs.id, theirs.tag), (mine.id, mine.tag));
    assert_eq!(theirs.map_ids, mine.map_ids);
    // The kernel's program outlives the object while the handle lives.
    drop((objs, listed));
    assert_eq!(opened.info().unwrap().id, id);
    assert!(Program::from_id(id).is_ok());
    drop(opened);
    // Freed with its last handle (after an RCU grace period).
    let gone = || Program::from_id(id).is_err_and(|e| e.errno() == Some(libc::ENOENT));
    assert!(
        eventually(Duration::from_secs(10), gone),
        "program {id} still loaded"
    );
}

#[test]
fn the_lists_are_the_kernels() {
    let objs = counter::Objects::load().unwrap();
    // Names read by each side while this object stays loaded; other
    // processes load and drop programs meanwhile, so compare what both
    // readings must contain rather than whole lists.
    let names: Vec<String> = loaded::programs()
        .map(|p| p.unwrap().name().to_owned())
        .collect();
    let theirs = kernel_program_names();
    // The kernel keeps 15 bytes of a name: `count_getppid_raw` is cut.
    for name in ["count_getppid", "count_getppid_r"] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
        assert!(theirs.iter().any(|n| n == name), "{name} not in {theirs:?}");
    }

    let maps: Vec<String> = loaded::maps()
        .map(|m| m.unwrap().kernel_name().to_owned())
        .collect();
    let theirs = kernel_map_names();
    for name in ["counts", "raw_counts"] {
        assert!(maps.iter().any(|n| n == name), "{name} not in {maps:?}");
        assert!(theirs.iter().any(|n| n == name), "{name} not in {theirs:?}");
    }
    drop(objs);
}

#[test]
fn a_map_opened_by_id_sees_what_the_program_counts() {
    let objs = counter::Objects::load().unwrap();
    let id = objs.maps.counts.map().info().id;
    let _link = objs.programs.count_getppid.attach().unwrap();
    let map = Map::from_id(id).unwrap();
    assert_eq!(map.kernel_name(), "counts");
    assert_eq!(map.info().id, id);
    getppid_n(6);
    let value = map.lookup(&tid().to_ne_bytes()).unwrap().expect("counted");
    assert_eq!(u64_value(&value), 6);
}

#[test]
fn a_link_opened_by_id_keeps_its_program_attached() {
    let objs = counter::Objects::load().unwrap();
    let link = objs.programs.count_getppid.attach().unwrap();
    // A tracepoint's link is a BPF link from 5.15; before, it is the perf
    // event, which the kernel lists nowhere, and the raw tracepoint's link
    // (a BPF link from 5.7) is the one opened by id. A link opened by id
    // knows its program by the kernel's name of it, 15 characters at most.
    let (link, program, counts) = if kernel().at_least(5, 15) {
        (link, "count_getppid", &objs.maps.counts)
    } else {
        assert!(link.fd().is_none());
        assert!(link.id().is_err());
        let raw = objs.programs.count_getppid_raw.attach().unwrap();
        (raw, "count_getppid_r", &objs.maps.raw_counts)
    };
    let id = link_id(&link);
    assert!(loaded::link_ids().map(Result::unwrap).any(|l| l == id));
    let listed = loaded::links()
        .map(Result::unwrap)
        .find(|l| link_id(l) == id)
        .expect("our link among the kernel's");
    assert_eq!(listed.program(), program);

    let opened = Link::from_id(id).unwrap();
    assert_eq!(opened.program(), program);
    assert_eq!(opened.target(), format!("link id {id}"));
    drop((link, listed));
    // The handle opened by id holds the link: the program still counts.
    getppid_n(3);
    assert_eq!(count(counts), 3);
    drop(opened);
    getppid_n(2);
    assert_eq!(count(counts), 3, "detached with the last handle");
}

#[test]
fn a_missing_id_says_which() {
    for (what, err) in [
        ("program", Program::from_id(u32::MAX).unwrap_err()),
        ("map", Map::from_id(u32::MAX).unwrap_err()),
        ("link", Link::from_id(u32::MAX).map(drop).unwrap_err()),
    ] {
        assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");
        assert_eq!(
            err.to_string(),
            format!("opening {what} id {}", u32::MAX),
            "{err}"
        );
    }
}
