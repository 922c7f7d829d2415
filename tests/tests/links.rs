//! Operations on links: what the kernel says about them, giving a live
//! link another program, detaching a pinned link, opening a link by id, a
//! pin that outlives the process that made it, and a link without a
//! descriptor of its own saying so.

use std::net::UdpSocket;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use ebpf_skeleton::link::{Link, LinkDetail, LinkType, PerfEventDetail, Usdt};
use ebpf_skeleton::{ebpf_skeleton, Array, AttachType, UpdateFlags};
use ebpf_skeleton_tests::kernel::kernel;
use ebpf_skeleton_tests::net::{ifindex, in_new_netns, loopback_up, udp_round_trips};
use ebpf_skeleton_tests::{eventually, getppid_n, in_own_process, own_cgroup, tid};

ebpf_skeleton!("../bpf/links.bpf.o");

/// Slots of `hits`, as in links.bpf.c.
const FIRST: u32 = 0;
const SECOND: u32 = 1;
// (Slot 2 counts `on_getppid`, whose link only the info test reads.)
const EGRESS: u32 = 3;
const RAW: u32 = 4;
const USDT: u32 = 5;

fn load_for_this_thread() -> links::Objects {
    let objs = links::Objects::load().expect("load links.bpf.o");
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    objs
}

fn hits(objs: &links::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

/// A path in bpffs no other test uses.
fn pin_path(what: &str) -> PathBuf {
    PathBuf::from(format!(
        "/sys/fs/bpf/ebpf-skeleton-links-{what}-{}",
        std::process::id()
    ))
}

/// Whether the kernel still has a link with this id.
fn link_exists(id: u32) -> bool {
    Link::from_id(id).is_ok()
}

#[test]
fn link_info_names_the_hook_of_each_kind() {
    let objs = load_for_this_thread();
    let tp = objs.programs.on_getppid.attach().unwrap();
    if !kernel().at_least(5, 15) {
        // No BPF perf links before 5.15: the link is the perf event.
        assert!(tp.fd().is_none());
        assert!(tp.info().is_err());
    } else {
        let info = tp.info().unwrap();
        assert_eq!(info.link_type, LinkType::PERF_EVENT);
        assert_eq!(info.program_id, objs.programs.on_getppid.id().unwrap());
        // Perf links describe their event from 6.6.
        let detail = if kernel().at_least(6, 6) {
            PerfEventDetail::Tracepoint {
                name: "sys_enter_getppid".into(),
                cookie: 0,
            }
        } else {
            PerfEventDetail::Unknown
        };
        assert_eq!(info.detail, LinkDetail::PerfEvent(detail));
        assert_eq!(tp.id().unwrap(), info.id);
    }

    let raw = objs.programs.on_sys_enter.attach().unwrap();
    let info = raw.info().unwrap();
    assert_eq!(info.link_type, LinkType::RAW_TRACEPOINT);
    assert_eq!(
        info.detail,
        LinkDetail::RawTracepoint {
            name: "sys_enter".into(),
            cookie: 0
        }
    );
    assert_eq!(info.program_id, objs.programs.on_sys_enter.id().unwrap());

    let dir = own_cgroup();
    let cgroup = std::fs::File::open(&dir).unwrap();
    let egress = objs.programs.on_egress.attach_cgroup(&cgroup).unwrap();
    let info = egress.info().unwrap();
    assert_eq!(info.link_type, LinkType::CGROUP);
    assert_eq!(
        info.detail,
        LinkDetail::Cgroup {
            cgroup_id: std::fs::metadata(&dir).unwrap().ino(),
            attach_type: AttachType::CGROUP_INET_EGRESS,
        }
    );

    in_new_netns(|| {
        loopback_up();
        let xdp = objs.programs.xdp_first.attach_xdp(ifindex("lo")).unwrap();
        let info = xdp.info().unwrap();
        assert_eq!(info.link_type, LinkType::XDP);
        assert_eq!(info.detail, LinkDetail::Xdp { ifindex: 1 });
        assert_eq!(info.program_id, objs.programs.xdp_first.id().unwrap());
        assert_eq!(
            info.to_string(),
            format!("link {} (xdp) of program {}", info.id, info.program_id)
        );
    });
}

#[test]
fn a_live_link_runs_the_program_it_is_updated_to_from_the_next_packet() {
    let objs = load_for_this_thread();
    in_new_netns(|| {
        loopback_up();
        let (first, second) = (&objs.programs.xdp_first, &objs.programs.xdp_second);
        let mut link = first.attach_xdp(ifindex("lo")).unwrap();
        udp_round_trips(5);
        assert_eq!((hits(&objs, FIRST), hits(&objs, SECOND)), (5, 0));

        link.update_program(second).unwrap();
        assert_eq!(link.program(), "xdp_second");
        assert_eq!(link.info().unwrap().program_id, second.id().unwrap());
        udp_round_trips(7);
        assert_eq!((hits(&objs, FIRST), hits(&objs, SECOND)), (5, 7));

        // A replacement that expects the wrong program is refused, and the
        // link keeps running the one it has.
        let err = link.replace_program(first, first).unwrap_err();
        assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
        assert!(
            err.to_string().starts_with(
                "updating the link of program `xdp_second` (XDP of interface `lo` (index 1)) \
                 to program `xdp_first`"
            ),
            "{err}"
        );
        udp_round_trips(2);
        assert_eq!((hits(&objs, FIRST), hits(&objs, SECOND)), (5, 9));

        // One that expects the right one goes through.
        link.replace_program(first, second).unwrap();
        udp_round_trips(3);
        assert_eq!((hits(&objs, FIRST), hits(&objs, SECOND)), (8, 9));
    });
}

#[test]
fn links_of_tracepoints_take_no_other_program() {
    let objs = load_for_this_thread();
    let mut raw = objs.programs.on_sys_enter.attach().unwrap();
    let err = raw.update_program(&objs.programs.on_sys_enter).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert_eq!(raw.program(), "on_sys_enter");
    getppid_n(3);
    assert_eq!(hits(&objs, RAW), 3);
}

#[test]
fn detaching_a_pinned_link_stops_it_and_leaves_the_pin_defunct() {
    let objs = load_for_this_thread();
    let cgroup = std::fs::File::open(own_cgroup()).unwrap();
    // The program counts what this socket sends.
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    objs.bss
        .egress_port
        .set(u32::from(tx.local_addr().unwrap().port()));
    let send = |n| {
        let mut buf = [0u8; 4];
        for _ in 0..n {
            tx.send_to(b"e", rx.local_addr().unwrap()).unwrap();
            rx.recv(&mut buf).unwrap();
        }
    };
    let path = pin_path("detach");
    {
        let mut link = objs.programs.on_egress.attach_cgroup(&cgroup).unwrap();
        link.pin(&path).unwrap();
    }
    // The pin holds the link: it still counts.
    send(4);
    assert_eq!(hits(&objs, EGRESS), 4);

    let pinned = Link::from_pin(&path).unwrap();
    assert_eq!(pinned.program(), "on_egress");
    pinned.detach().unwrap();
    send(4);
    assert_eq!(hits(&objs, EGRESS), 4, "a detached link runs nothing");
    let again = Link::from_pin(&path).unwrap();
    let LinkDetail::Cgroup { cgroup_id, .. } = again.info().unwrap().detail else {
        panic!("a cgroup link");
    };
    assert_eq!(cgroup_id, 0, "a defunct link has no cgroup");
    again.unpin(&path).unwrap();
    assert!(!path.exists());

    // Tracepoint links detach only when dropped; the kernel says so.
    let tp = objs.programs.on_sys_enter.attach().unwrap();
    let err = tp.detach().unwrap_err();
    assert_eq!(err.errno(), Some(libc::EOPNOTSUPP), "{err}");
    assert_eq!(
        err.to_string(),
        "detaching the link of program `on_sys_enter` (the hook of its section `raw_tp/sys_enter`)"
    );
    getppid_n(2);
    assert_eq!(hits(&objs, RAW), 2);
    drop(tp);
    getppid_n(2);
    assert_eq!(hits(&objs, RAW), 2);
}

#[test]
fn a_link_opened_by_id_is_the_same_link() {
    let objs = load_for_this_thread();
    let link = objs.programs.on_sys_enter.attach().unwrap();
    let id = link.id().unwrap();
    let by_id = Link::from_id(id).unwrap();
    assert_eq!(by_id.info().unwrap(), link.info().unwrap());
    assert_eq!(by_id.program(), "on_sys_enter");
    assert_eq!(by_id.target(), format!("link id {id}"));

    // Either handle keeps the link attached; the last one detaches it.
    drop(link);
    getppid_n(3);
    assert_eq!(hits(&objs, RAW), 3);
    drop(by_id);
    assert!(
        eventually(Duration::from_secs(5), || !link_exists(id)),
        "link {id} outlived its last handle"
    );
    getppid_n(3);
    assert_eq!(hits(&objs, RAW), 3);

    let err = Link::from_id(id).unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");
    assert_eq!(err.to_string(), format!("opening link id {id}"));
}

/// Where the child of the pin test pins its link and maps, set for it.
const CHILD_PINS: &str = "EBPF_SKELETON_LINKS_CHILD_PINS";

#[test]
fn a_pin_outlives_the_process_that_made_it() {
    if let Some(dir) = std::env::var_os(CHILD_PINS) {
        // The child: attach, pin the link and the maps, exit.
        let dir = PathBuf::from(dir);
        let objs = links::Objects::load().unwrap();
        let mut link = objs.programs.on_sys_enter.attach().unwrap();
        link.pin(dir.join("link")).unwrap();
        objs.maps.target.pin(dir.join("target")).unwrap();
        objs.maps.hits.pin(dir.join("hits")).unwrap();
        return;
    }
    let dir = pin_path("child");
    std::fs::create_dir(&dir).unwrap();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["a_pin_outlives_the_process_that_made_it", "--exact"])
        .env(CHILD_PINS, &dir)
        .output()
        .unwrap();
    assert!(
        child.status.success() && String::from_utf8_lossy(&child.stdout).contains("1 passed"),
        "the child failed: {}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );

    // The child is gone; its link still counts this thread's calls.
    let link = Link::from_pin(dir.join("link")).unwrap();
    assert_eq!(link.program(), "on_sys_enter");
    let target = Array::<u32>::from_pin(dir.join("target")).unwrap();
    let hits = Array::<u64>::from_pin(dir.join("hits")).unwrap();
    target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let before = hits.get(RAW).unwrap();
    getppid_n(6);
    // (What a failure says: what was counted before, and every link of
    // the program in the kernel.)
    let program = link.info().unwrap().program_id;
    let links_of_program: Vec<_> = ebpf_skeleton::loaded::links()
        .filter_map(|l| l.ok()?.info().ok())
        .filter(|i| i.program_id == program)
        .collect();
    assert_eq!(
        hits.get(RAW).unwrap(),
        Some(6),
        "counted before: {before:?}; links: {links_of_program:?}"
    );

    // Unpinned and dropped, the link goes.
    let id = link.id().unwrap();
    link.unpin(dir.join("link")).unwrap();
    drop(link);
    assert!(eventually(Duration::from_secs(5), || !link_exists(id)));
    getppid_n(6);
    assert_eq!(hits.get(RAW).unwrap(), Some(6));
    std::fs::remove_file(dir.join("target")).unwrap();
    std::fs::remove_file(dir.join("hits")).unwrap();
    std::fs::remove_dir(&dir).unwrap();
}

/// The USDT probe the descriptor-less link attaches to.
#[inline(never)]
#[no_mangle]
extern "C" fn links_usdt_target(x: u64) -> u64 {
    probe::probe!(ebpf_skeleton_links, hit, x);
    std::hint::black_box(x + 1)
}

#[test]
fn a_link_without_a_descriptor_of_its_own_says_so() {
    // Alone in a process: a child that another test's thread starts holds
    // copies of this process's descriptors until it execs, the uprobes'
    // perf events among them, and the probe can stay attached that long
    // after the link is dropped (seen under emulation, on 5.10).
    in_own_process("a_link_without_a_descriptor_of_its_own_says_so", || {
        a_link_without_a_descriptor_of_its_own_says_so_alone()
    });
}

fn a_link_without_a_descriptor_of_its_own_says_so_alone() {
    let objs = load_for_this_thread();
    let pid = std::process::id() as i32;
    let mut usdt = objs
        .programs
        .on_usdt
        .attach_usdt(&Usdt::new("/proc/self/exe", "ebpf_skeleton_links", "hit").pid(pid))
        .unwrap();
    links_usdt_target(1);
    assert_eq!(hits(&objs, USDT), 1, "the link works");
    assert!(usdt.fd().is_none());
    let no_fd = "this link has no BPF link descriptor of its own (a USDT link is a set of \
                 uprobes; a perf event link on a kernel without BPF perf links is the event)";
    let target = format!("USDT probe `ebpf_skeleton_links:hit` of /proc/self/exe in process {pid}");
    let errors = [
        (usdt.info().unwrap_err(), "reading info of"),
        (usdt.detach().unwrap_err(), "detaching"),
        (
            usdt.update_program(&objs.programs.on_usdt).unwrap_err(),
            "updating",
        ),
        (usdt.pin(pin_path("usdt")).unwrap_err(), "pinning"),
    ];
    for (err, doing) in errors {
        assert!(
            err.to_string()
                .starts_with(&format!("{doing} the link of program `on_usdt` ({target})")),
            "{err}"
        );
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert_eq!(source, no_fd);
    }
    links_usdt_target(2);
    assert_eq!(hits(&objs, USDT), 2, "still attached");
    drop(usdt);
    links_usdt_target(3);
    assert_eq!(hits(&objs, USDT), 2, "dropping detaches");
}
