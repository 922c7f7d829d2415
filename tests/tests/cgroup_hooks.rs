//! Every cgroup hook, attached as a link to this process's cgroup and run
//! by what the test thread does (sockets, addresses, sysctls, socket
//! options, a device) or sends; and the three `BPF_PROG_ATTACH` modes
//! (exclusive, overridable, multi) in a cgroup hierarchy made for the test,
//! run by child processes moved into it.

use std::fs::File;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use ebpf_skeleton::link::{query_cgroup, CgroupMode, CgroupOptions, LinkDetail};
use ebpf_skeleton::{ebpf_skeleton, AttachType, Error, Program, UpdateFlags};
use ebpf_skeleton_tests::kernel::kernel;
use ebpf_skeleton_tests::{cgroup2_root, own_cgroup, starting_children, tid, without_children};

ebpf_skeleton!("../bpf/cgroup_hooks.bpf.o");
ebpf_skeleton!("../bpf/cgroup_unix.bpf.o");
ebpf_skeleton!("../bpf/cgroup_modes.bpf.o");

/// Slots of `hits`, as in cgroup_hooks.bpf.c.
mod slot {
    pub const INGRESS: u32 = 0;
    pub const EGRESS: u32 = 1;
    pub const SOCK_CREATE: u32 = 2;
    pub const SOCK_RELEASE: u32 = 3;
    pub const POST_BIND4: u32 = 4;
    pub const POST_BIND6: u32 = 5;
    pub const BIND4: u32 = 6;
    pub const BIND6: u32 = 7;
    pub const CONNECT4: u32 = 8;
    pub const CONNECT6: u32 = 9;
    pub const SENDMSG4: u32 = 10;
    pub const SENDMSG6: u32 = 11;
    pub const RECVMSG4: u32 = 12;
    pub const RECVMSG6: u32 = 13;
    pub const GETPEERNAME4: u32 = 14;
    pub const GETPEERNAME6: u32 = 15;
    pub const GETSOCKNAME4: u32 = 16;
    pub const GETSOCKNAME6: u32 = 17;
    pub const SOCKOPS: u32 = 18;
    pub const SYSCTL: u32 = 19;
    pub const GETSOCKOPT: u32 = 20;
    pub const SETSOCKOPT: u32 = 21;
    pub const DEVICE: u32 = 22;
    /// Of cgroup_modes.bpf.c.
    pub const SYSCTL_A: u32 = 0;
    pub const SYSCTL_B: u32 = 1;
}

/// cgroup_hooks.bpf.o with this thread as its target, or `None` on a
/// kernel before 6.1, which gives the sysctl hook no thread id (it refuses
/// `bpf_get_current_pid_tgid` there) and so refuses the object: that
/// refusal is checked.
fn load_for_this_thread() -> Option<cgroup_hooks::Objects> {
    let loaded = cgroup_hooks::Objects::load();
    if !kernel().at_least(6, 1) {
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_sysctl"),
            "{err}"
        );
        return None;
    }
    let objs = loaded.expect("load cgroup_hooks.bpf.o");
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    Some(objs)
}

fn mode_hits(objs: &cgroup_modes::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

fn hits(objs: &cgroup_hooks::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

fn v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn v6() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

/// A UDP socket bound to `addr`'s loopback, and another to send it to.
fn udp_pair(addr: SocketAddr) -> (UdpSocket, UdpSocket) {
    (
        UdpSocket::bind(addr).unwrap(),
        UdpSocket::bind(addr).unwrap(),
    )
}

/// Attaches `program` as a link to `cgroup` on the hook of its section,
/// runs `trigger`, and checks that `slot` counted `expected` runs and the
/// link names the cgroup and hook.
fn runs(
    objs: &cgroup_hooks::Objects,
    cgroup: &File,
    program: &Program,
    slot: u32,
    expected: u64,
    trigger: impl FnOnce(),
) {
    let link = program
        .attach_cgroup_with(cgroup, &CgroupOptions::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let before = hits(objs, slot);
    trigger();
    assert_eq!(
        hits(objs, slot) - before,
        expected,
        "program `{}`",
        program.name()
    );
    let LinkDetail::Cgroup { attach_type, .. } = link.info().unwrap().detail else {
        panic!("a cgroup link");
    };
    assert_eq!(Some(attach_type), program.expected_attach_type());
}

#[test]
fn every_inet_and_socket_hook_runs_for_this_thread() {
    use slot::*;
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let cgroup = File::open(own_cgroup()).unwrap();
    let p = &objs.programs;
    for (program, slot, addr) in [
        (&p.on_bind4, BIND4, v4()),
        (&p.on_bind6, BIND6, v6()),
        (&p.on_post_bind4, POST_BIND4, v4()),
        (&p.on_post_bind6, POST_BIND6, v6()),
    ] {
        runs(&objs, &cgroup, program, slot, 2, || drop(udp_pair(addr)));
    }
    runs(&objs, &cgroup, &p.on_sock_create, SOCK_CREATE, 2, || {
        drop(udp_pair(v4()))
    });
    // The sockets must be released by this thread's close, not by a child
    // process another test starts meanwhile with copies of them.
    without_children(|| {
        let pair = udp_pair(v4());
        runs(&objs, &cgroup, &p.on_sock_release, SOCK_RELEASE, 2, || {
            drop(pair)
        });
    });
    for (program, slot, addr) in [
        (&p.on_connect4, CONNECT4, v4()),
        (&p.on_connect6, CONNECT6, v6()),
    ] {
        let (a, b) = udp_pair(addr);
        runs(&objs, &cgroup, program, slot, 1, || {
            a.connect(b.local_addr().unwrap()).unwrap()
        });
    }
    for (program, slot, addr) in [
        (&p.on_sendmsg4, SENDMSG4, v4()),
        (&p.on_sendmsg6, SENDMSG6, v6()),
    ] {
        let (a, b) = udp_pair(addr);
        runs(&objs, &cgroup, program, slot, 3, || {
            for _ in 0..3 {
                a.send_to(b"m", b.local_addr().unwrap()).unwrap();
            }
        });
    }
    for (program, slot, addr) in [
        (&p.on_recvmsg4, RECVMSG4, v4()),
        (&p.on_recvmsg6, RECVMSG6, v6()),
    ] {
        let (a, b) = udp_pair(addr);
        for _ in 0..2 {
            a.send_to(b"m", b.local_addr().unwrap()).unwrap();
        }
        runs(&objs, &cgroup, program, slot, 2, || {
            let mut buf = [0u8; 4];
            for _ in 0..2 {
                b.recv_from(&mut buf).unwrap();
            }
        });
    }
    for (program, slot, addr) in [
        (&p.on_getpeername4, GETPEERNAME4, v4()),
        (&p.on_getpeername6, GETPEERNAME6, v6()),
    ] {
        let (a, b) = udp_pair(addr);
        a.connect(b.local_addr().unwrap()).unwrap();
        runs(&objs, &cgroup, program, slot, 1, || {
            a.peer_addr().unwrap();
        });
    }
    for (program, slot, addr) in [
        (&p.on_getsockname4, GETSOCKNAME4, v4()),
        (&p.on_getsockname6, GETSOCKNAME6, v6()),
    ] {
        let (a, _b) = udp_pair(addr);
        runs(&objs, &cgroup, program, slot, 2, || {
            a.local_addr().unwrap();
            a.local_addr().unwrap();
        });
    }
}

#[test]
fn the_packet_sockops_sysctl_sockopt_and_device_hooks_run() {
    use slot::*;
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let cgroup = File::open(own_cgroup()).unwrap();
    let p = &objs.programs;

    let (tx, rx) = udp_pair(v4());
    objs.bss
        .rx_port
        .set(u32::from(rx.local_addr().unwrap().port()));
    objs.bss
        .tx_port
        .set(u32::from(tx.local_addr().unwrap().port()));
    let send = |n| {
        let mut buf = [0u8; 4];
        for _ in 0..n {
            tx.send_to(b"p", rx.local_addr().unwrap()).unwrap();
            rx.recv(&mut buf).unwrap();
        }
    };
    runs(&objs, &cgroup, &p.on_ingress, INGRESS, 4, || send(4));
    runs(&objs, &cgroup, &p.on_egress, EGRESS, 5, || send(5));

    let listener = TcpListener::bind(v4()).unwrap();
    objs.bss
        .tcp_port
        .set(u32::from(listener.local_addr().unwrap().port()));
    runs(&objs, &cgroup, &p.on_sockops, SOCKOPS, 2, || {
        for _ in 0..2 {
            let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            listener.accept().unwrap();
        }
    });

    // One read(2) of a sysctl runs the hook once.
    runs(&objs, &cgroup, &p.on_sysctl, SYSCTL, 1, || {
        let mut buf = [0u8; 64];
        let n = File::open("/proc/sys/kernel/ostype")
            .unwrap()
            .read(&mut buf)
            .unwrap();
        assert_eq!(&buf[..n], b"Linux\n");
    });
    let (socket, _) = udp_pair(v4());
    runs(&objs, &cgroup, &p.on_setsockopt, SETSOCKOPT, 1, || {
        socket.set_ttl(33).unwrap()
    });
    runs(&objs, &cgroup, &p.on_getsockopt, GETSOCKOPT, 1, || {
        assert_eq!(socket.ttl().unwrap(), 33)
    });
    runs(&objs, &cgroup, &p.on_device, DEVICE, 1, || {
        drop(File::open("/dev/null").unwrap())
    });
}

#[test]
fn the_unix_socket_hooks_run_from_linux_6_7() {
    if !kernel().at_least(6, 7) {
        // Older kernels know none of these attach types.
        let err = cgroup_unix::Objects::load().unwrap_err();
        assert!(
            err.to_string().contains("on_connect_unix"),
            "the first Unix hook is refused: {err}"
        );
        return;
    }
    let objs = cgroup_unix::Objects::load().unwrap();
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let hits = |slot: u32| objs.maps.hits.get(slot).unwrap().unwrap();
    let cgroup = File::open(own_cgroup()).unwrap();
    let dir = scratch_dir("unix");
    let p = &objs.programs;
    let links: Vec<_> = [
        &p.on_connect_unix,
        &p.on_sendmsg_unix,
        &p.on_recvmsg_unix,
        &p.on_getpeername_unix,
        &p.on_getsockname_unix,
    ]
    .into_iter()
    .map(|program| {
        program
            .attach_cgroup_with(&cgroup, &CgroupOptions::new())
            .unwrap()
    })
    .collect();

    // Each hook runs once for the call that asks for it (measured around
    // the call alone: some kernels run one hook inside another call too).
    let once = |slot: u32, call: &dyn Fn()| {
        let before = hits(slot);
        call();
        assert_eq!(hits(slot) - before, 1, "slot {slot}");
    };
    let listener = UnixListener::bind(dir.join("stream")).unwrap();
    let client = std::cell::OnceCell::new();
    once(0, &|| {
        client
            .set(UnixStream::connect(dir.join("stream")).unwrap())
            .unwrap()
    });
    let (_server, _) = listener.accept().unwrap();
    let client = client.get().unwrap();
    once(3, &|| {
        client.peer_addr().unwrap();
    });
    once(4, &|| {
        listener.local_addr().unwrap();
    });
    let rx = UnixDatagram::bind(dir.join("rx")).unwrap();
    let tx = UnixDatagram::bind(dir.join("tx")).unwrap();
    once(1, &|| {
        tx.send_to(b"u", dir.join("rx")).unwrap();
    });
    once(2, &|| {
        let mut buf = [0u8; 4];
        rx.recv_from(&mut buf).unwrap();
    });
    drop(links);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A directory of this test's own under /tmp.
fn scratch_dir(what: &str) -> PathBuf {
    let dir = PathBuf::from(format!(
        "/tmp/ebpf-skeleton-cgroup-{what}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    dir
}

/// A cgroup `parent` with a child cgroup `child`, made for one test and
/// removed when dropped.
struct Hierarchy {
    parent: PathBuf,
    child: PathBuf,
}

impl Hierarchy {
    fn new(name: &str) -> Hierarchy {
        let parent = PathBuf::from(format!(
            "{}/ebpf-skeleton-links-{name}-{}",
            cgroup2_root(),
            std::process::id()
        ));
        let child = parent.join("child");
        std::fs::create_dir(&parent).unwrap();
        std::fs::create_dir(&child).unwrap();
        Hierarchy { parent, child }
    }

    fn open(dir: &Path) -> File {
        File::open(dir).unwrap()
    }
}

impl Drop for Hierarchy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.child);
        let _ = std::fs::remove_dir(&self.parent);
    }
}

/// Runs a process in the cgroup `dir` that reads one sysctl with one
/// read(2), and waits for it.
fn read_sysctl_in(dir: &Path) {
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec dd if=/proc/sys/kernel/ostype of=/dev/null bs=64 \
         count=1 status=none",
        dir.display()
    );
    let status = starting_children(|| Command::new("sh").args(["-c", &script]).status().unwrap());
    assert!(status.success(), "{script}");
}

#[test]
fn an_overridable_program_is_replaced_below_by_the_child_s_own() {
    use slot::*;
    let objs = cgroup_modes::Objects::load().unwrap();
    let h = Hierarchy::new("override");
    let over = CgroupOptions::new().mode(CgroupMode::Override);
    let _a = objs
        .programs
        .sysctl_a
        .attach_cgroup_with(Hierarchy::open(&h.parent), &over)
        .unwrap();
    read_sysctl_in(&h.child);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (1, 0)
    );
    let b = objs
        .programs
        .sysctl_b
        .attach_cgroup_with(Hierarchy::open(&h.child), &over)
        .unwrap();
    assert!(b.fd().is_none(), "BPF_PROG_ATTACH makes no link");
    read_sysctl_in(&h.child);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (1, 1),
        "the child's own replaces its parent's"
    );
    read_sysctl_in(&h.parent);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (2, 1)
    );
    let attached = query_cgroup(Hierarchy::open(&h.parent), AttachType::CGROUP_SYSCTL).unwrap();
    assert_eq!(attached.attach_flags, libbpf_flags::ALLOW_OVERRIDE);
    assert_eq!(attached.programs.len(), 1);
    assert_eq!(
        attached.programs[0].program_id,
        objs.programs.sysctl_a.id().unwrap()
    );
    assert_eq!(attached.programs[0].link_id, None);
    // Detached on drop: the parent's program runs below again.
    drop(b);
    read_sysctl_in(&h.child);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (3, 1)
    );
}

/// The kernel's `BPF_F_ALLOW_*` flags, as `query_cgroup` reports them.
mod libbpf_flags {
    pub const ALLOW_OVERRIDE: u32 = 1;
    pub const ALLOW_MULTI: u32 = 2;
}

#[test]
fn multi_programs_all_run_and_one_is_swapped_atomically() {
    use slot::*;
    let objs = cgroup_modes::Objects::load().unwrap();
    let h = Hierarchy::new("multi");
    let multi = CgroupOptions::new().mode(CgroupMode::Multi);
    let mut a = objs
        .programs
        .sysctl_a
        .attach_cgroup_with(Hierarchy::open(&h.parent), &multi)
        .unwrap();
    assert_eq!(a.target(), "the cgroup_sysctl hook of a cgroup (multi)");
    let _b = objs
        .programs
        .sysctl_b
        .attach_cgroup_with(Hierarchy::open(&h.child), &multi)
        .unwrap();
    read_sysctl_in(&h.child);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (1, 1)
    );
    read_sysctl_in(&h.parent);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (2, 1)
    );
    assert_eq!(
        query_cgroup(Hierarchy::open(&h.parent), AttachType::CGROUP_SYSCTL)
            .unwrap()
            .attach_flags,
        libbpf_flags::ALLOW_MULTI
    );

    // The parent's program swapped for another (BPF_F_REPLACE).
    let other = cgroup_modes::Objects::load().unwrap();
    a.update_program(&other.programs.sysctl_a).unwrap();
    read_sysctl_in(&h.child);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (2, 2)
    );
    assert_eq!(other.maps.hits.get(SYSCTL_A).unwrap(), Some(1));
    drop(a);
    read_sysctl_in(&h.child);
    assert_eq!(other.maps.hits.get(SYSCTL_A).unwrap(), Some(1));

    // A link beside programs attached without one.
    let link = objs
        .programs
        .sysctl_a
        .attach_cgroup_with(Hierarchy::open(&h.child), &CgroupOptions::new())
        .unwrap();
    assert!(link.fd().is_some());
    read_sysctl_in(&h.child);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (3, 4)
    );
}

#[test]
fn an_exclusive_program_lets_no_descendant_attach() {
    use slot::*;
    let objs = cgroup_modes::Objects::load().unwrap();
    let h = Hierarchy::new("exclusive");
    let _a = objs
        .programs
        .sysctl_a
        .attach_cgroup_with(
            Hierarchy::open(&h.parent),
            &CgroupOptions::new().mode(CgroupMode::Exclusive),
        )
        .unwrap();
    for mode in [
        CgroupMode::Exclusive,
        CgroupMode::Override,
        CgroupMode::Multi,
    ] {
        let err = objs
            .programs
            .sysctl_b
            .attach_cgroup_with(Hierarchy::open(&h.child), &CgroupOptions::new().mode(mode))
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc::EPERM), "{mode:?}: {err}");
        assert!(
            err.to_string().contains("allows no other (exclusive)"),
            "{err}"
        );
    }
    read_sysctl_in(&h.child);
    assert_eq!(
        (mode_hits(&objs, SYSCTL_A), mode_hits(&objs, SYSCTL_B)),
        (1, 0)
    );

    // A program held by its descriptor names its hook in the options.
    let by_fd = Program::from_fd(
        objs.programs
            .sysctl_b
            .fd()
            .unwrap()
            .try_clone_to_owned()
            .unwrap(),
    )
    .unwrap();
    let err = by_fd
        .attach_cgroup_with(Hierarchy::open(&h.parent), &CgroupOptions::new())
        .unwrap_err();
    assert!(
        err.to_string().contains("give the hook in the options"),
        "{err}"
    );
    let err = by_fd
        .attach_cgroup_with(
            Hierarchy::open(&h.parent),
            &CgroupOptions::new().hook(AttachType::CGROUP_SYSCTL),
        )
        .unwrap_err();
    assert_eq!(
        err.errno(),
        Some(libc::EPERM),
        "a link beside an exclusive program: {err}"
    );
}
