//! struct_ops against the kernel: a TCP congestion control written in C
//! (tests/bpf/tcp_cc.bpf.c), registered from Rust, selected on a loopback
//! socket with setsockopt(TCP_CONGESTION), its callbacks counted by the
//! kernel; unregistered when its link drops. Through the skeleton
//! (`specs.struct_ops.ebpf_cc`, `objs.struct_ops.ebpf_cc`), the derive
//! (a `StructOps` field, `LoadOptions::struct_ops`) and the object API.
//! tests/bpf/tcp_cc_kfuncs.bpf.c is kfuncs, a ksym variable and a
//! struct_ops map in one object: its callbacks call the kernel's Reno.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use ebpf_skeleton::{
    ebpf_skeleton, enable_stats, Error, LoadOptions, Object, Objects, OpenObject, Section,
    StructOps,
};
use ebpf_skeleton_tests::kallsyms_address;
use ebpf_skeleton_tests::kernel::{assert_map_refused, kernel, Feature};

ebpf_skeleton!("../bpf/tcp_cc.bpf.o");
ebpf_skeleton!("../bpf/tcp_cc_kfuncs.bpf.o");

const NAME: &str = "ebpf_test_cc";

/// The kernel takes one congestion control of a name: the tests register
/// theirs in turn.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Loads tcp_cc.bpf.o; `None` on a kernel older than 6.4, after checking
/// its refusal: a `.struct_ops.link` map is registered through a BPF link,
/// which those kernels do not have, so they refuse to create the map.
fn load() -> Option<Object> {
    if !kernel().has(Feature::StructOpsLink) {
        assert_struct_ops_link_refused();
        return None;
    }
    let loaded = OpenObject::from_static("tcp_cc", tcp_cc::bytes())
        .unwrap()
        .load();
    Some(loaded.unwrap())
}

/// Checks the refusal of tcp_cc.bpf.o by a kernel older than 6.4, which
/// cannot create its `.struct_ops.link` map.
fn assert_struct_ops_link_refused() {
    let loaded = OpenObject::from_static("tcp_cc", tcp_cc::bytes())
        .unwrap()
        .load();
    assert_map_refused(loaded, "tcp_cc", "ebpf_cc");
}

/// Selects the congestion control `name` on `socket`.
fn set_congestion(socket: &impl AsRawFd, name: &str) -> std::io::Result<()> {
    // SAFETY: a valid socket and a buffer of the length given.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as _,
        )
    };
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The congestion control in use on `socket`.
fn congestion(socket: &impl AsRawFd) -> String {
    let mut buf = [0u8; 16];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: a valid socket and a buffer of the length given.
    let ret = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    assert_eq!(ret, 0);
    String::from_utf8_lossy(&buf[..len as usize])
        .trim_end_matches('\0')
        .to_owned()
}

/// A TCP socket not connected yet (so that its congestion control is
/// chosen before the handshake).
fn unconnected_socket() -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: a plain socket(2) call; the fd is owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0);
    // SAFETY: the kernel just returned this fd.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

#[test]
fn a_congestion_control_in_c_is_registered_used_and_unregistered() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(objs) = load() else { return };
    let bss = objs.section::<tcp_cc::BssView>(".bss").unwrap();
    let probe = unconnected_socket();
    assert_eq!(
        set_congestion(&probe, NAME).unwrap_err().raw_os_error(),
        Some(libc::ENOENT),
        "not registered yet"
    );

    let link = objs.struct_ops("ebpf_cc").unwrap().register().unwrap();
    assert!(
        link.fd().is_some(),
        "a .struct_ops.link map gives a kernel link"
    );

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let mut total = 0;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match peer.read(&mut buf).unwrap() {
                0 => return total,
                n => total += n,
            }
        }
    });
    let socket = unconnected_socket();
    set_congestion(&socket, NAME).unwrap();
    let mut stream = TcpStream::from(socket);
    connect(&stream, addr);
    assert_eq!(congestion(&stream), NAME);
    let chunk = vec![7u8; 1 << 16];
    for _ in 0..128 {
        stream.write_all(&chunk).unwrap();
    }
    drop(stream);
    assert_eq!(receiver.join().unwrap(), 128 << 16);

    assert_eq!(bss.inits.get(), 1, "one connection initialised");
    assert!(bss.cong_avoids.get() > 0, "ACKs went through cong_avoid");

    // Unregistered with its link: new sockets cannot select it.
    drop(link);
    let after = unconnected_socket();
    assert_eq!(
        set_congestion(&after, NAME).unwrap_err().raw_os_error(),
        Some(libc::ENOENT)
    );
}

#[test]
fn attach_registers_struct_ops() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(objs) = load() else { return };
    let links = objs.attach().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].target(), "struct_ops `ebpf_cc`");
    let socket = unconnected_socket();
    set_congestion(&socket, NAME).expect("registered by attach()");
}

/// A congestion control's name as its C struct holds it.
fn name_bytes(name: &str) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    bytes
}

/// Sends a few megabytes over loopback on a socket using the congestion
/// control `name`; returns the bytes the peer received.
fn transfer_with(name: &str) -> usize {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let mut total = 0;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match peer.read(&mut buf).unwrap() {
                0 => return total,
                n => total += n,
            }
        }
    });
    let socket = unconnected_socket();
    set_congestion(&socket, name).unwrap();
    let mut stream = TcpStream::from(socket);
    connect(&stream, addr);
    assert_eq!(congestion(&stream), name);
    let chunk = vec![7u8; 1 << 16];
    for _ in 0..64 {
        stream.write_all(&chunk).unwrap();
    }
    drop(stream);
    receiver.join().unwrap()
}

/// The congestion controls any user may select (the kernel lists those
/// registered with TCP_CONG_NON_RESTRICTED).
fn allowed_congestion_controls() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_allowed_congestion_control").unwrap()
}

/// `TCP_CONG_NON_RESTRICTED` of the kernel's `tcp_congestion_ops.flags`.
const NON_RESTRICTED: u32 = 0x1;

#[test]
fn the_skeleton_sets_struct_ops_data_and_attach_registers_it() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !kernel().has(Feature::StructOpsLink) {
        return assert_struct_ops_link_refused();
    }
    let mut specs = tcp_cc::Specs::new().unwrap();
    let ops = &mut specs.struct_ops.ebpf_cc;
    assert_eq!(ops.name, name_bytes(NAME), "the C initializer's name");
    assert_ne!(ops.init, 0, "libbpf keeps its program in the callback slot");
    assert_eq!(ops.flags, 0);
    ops.name = name_bytes("ebpf_test_sk");
    ops.flags = NON_RESTRICTED;
    // A callback slot is libbpf's: what is written there is not used.
    ops.init = 0xdead_beef;
    let objs = specs.load().unwrap();
    assert!(!objs.struct_ops.ebpf_cc_spare.is_created());

    let links = objs.attach().unwrap();
    assert_eq!(links.len(), 1, "the spare map was not created");
    assert_eq!(links[0].target(), "struct_ops `ebpf_cc`");
    let allowed = allowed_congestion_controls();
    assert!(
        allowed.split_whitespace().any(|n| n == "ebpf_test_sk"),
        "{allowed}"
    );
    assert_eq!(transfer_with("ebpf_test_sk"), 64 << 16);
    assert_eq!(
        objs.bss.inits.get(),
        1,
        "the program C assigned to `init` ran"
    );
    assert!(objs.bss.cong_avoids.get() > 0);
    drop(links);
    let gone = allowed_congestion_controls();
    assert!(
        !gone.split_whitespace().any(|n| n == "ebpf_test_sk"),
        "{gone}"
    );
}

#[test]
fn a_struct_ops_map_not_created_says_so() {
    if !kernel().has(Feature::StructOpsLink) {
        return assert_struct_ops_link_refused();
    }
    let specs = tcp_cc::Specs::new().unwrap();
    assert_eq!(
        specs.struct_ops.ebpf_cc_spare.name,
        name_bytes("ebpf_test_spare")
    );
    let objs = specs.load().unwrap();
    let spare = &objs.struct_ops.ebpf_cc_spare;
    assert_eq!(spare.name(), "ebpf_cc_spare");
    assert!(!spare.is_created() && spare.map().is_none());
    match spare.register() {
        Err(Error::NotCreated { map, .. }) => assert_eq!(map, "ebpf_cc_spare"),
        other => panic!("expected NotCreated, got {other:?}"),
    }
    let object = load().expect("loaded above");
    let err = object.map("ebpf_cc_spare").unwrap_err();
    assert_eq!(
        err.to_string(),
        "map `ebpf_cc_spare` was not created (its autocreate was off)"
    );
    assert!(object.struct_ops("ebpf_cc").unwrap().is_created());
}

/// The part of tcp_cc a derive loads: the struct_ops map (its programs
/// come with it) and the counters.
#[derive(Objects)]
#[ebpf(object = "../bpf/tcp_cc.bpf.o")]
struct CongestionControl {
    ebpf_cc: StructOps,
    bss: Section<tcp_cc::BssView>,
}

#[test]
fn the_derive_sets_struct_ops_data_and_registers_it() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !kernel().has(Feature::StructOpsLink) {
        return assert_struct_ops_link_refused();
    }
    let options = LoadOptions::new()
        .struct_ops("ebpf_cc", |ops: &mut tcp_cc::types::TcpCongestionOps| {
            ops.name = name_bytes("ebpf_test_dv")
        });
    let cc = CongestionControl::load_with(options).unwrap();
    let _link = cc.ebpf_cc.register().unwrap();
    assert_eq!(transfer_with("ebpf_test_dv"), 64 << 16);
    assert_eq!(cc.bss.inits.get(), 1);
}

fn connect(stream: &TcpStream, addr: std::net::SocketAddr) {
    let std::net::SocketAddr::V4(v4) = addr else {
        unreachable!("bound to 127.0.0.1")
    };
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as _,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: a valid socket and address of the size given.
    let ret = unsafe {
        libc::connect(
            stream.as_raw_fd(),
            (&sin as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as _,
        )
    };
    assert_eq!(ret, 0, "connect: {}", std::io::Error::last_os_error());
}

/// Every kernel since 5.6 registers a plain `.struct_ops` map (by a map
/// update, no BPF link): tcp_cc.bpf.o loads there with its link map off and
/// its spare one on, and the spare congestion control runs.
#[test]
fn a_plain_struct_ops_map_registers_on_every_kernel() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut open = OpenObject::from_static("tcp_cc", tcp_cc::bytes()).unwrap();
    for (map, create) in [("ebpf_cc", false), ("ebpf_cc_spare", true)] {
        let mut spec = open.map_spec(map).unwrap();
        spec.autocreate = create;
        open.apply_map(&spec).unwrap();
    }
    let objs = open.load().unwrap();
    let bss = objs.section::<tcp_cc::BssView>(".bss").unwrap();
    let spare = objs.struct_ops("ebpf_cc_spare").unwrap();
    let link = spare.register().unwrap();
    assert_eq!(link.target(), "struct_ops `ebpf_cc_spare`");
    assert_eq!(transfer_with("ebpf_test_spare"), 64 << 16);
    assert_eq!(bss.inits.get(), 1, "one connection initialised");
    assert!(bss.cong_avoids.get() > 0, "ACKs went through cong_avoid");
    // Dropping the registration deletes it: the name is free again.
    drop(link);
    let after = unconnected_socket();
    assert_eq!(
        set_congestion(&after, "ebpf_test_spare")
            .unwrap_err()
            .raw_os_error(),
        Some(libc::ENOENT)
    );
}

/// kfuncs, a typeless ksym and a `.struct_ops.link` map in one object
/// (tcp_cc_kfuncs.bpf.o): the skeleton expands it, libbpf resolves the
/// kfuncs against the kernel's BTF and `_text` from kallsyms, the kernel
/// verifies the kfunc calls of struct_ops programs (5.13) and creates the
/// link map (6.4), the registration makes `ebpf_test_kf` selectable, and a
/// loopback transfer on it runs every callback the kernel calls: counted
/// by the programs in `.bss` and by the kernel's own run statistics. Before
/// 6.4 the kernel refuses to create the link map, which is asserted.
///
/// The run statistics are global and no other test of this binary reads
/// them.
#[test]
fn kfuncs_a_ksym_and_struct_ops_in_one_object_run_live() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !kernel().has(Feature::StructOpsLink) {
        let loaded = tcp_cc_kfuncs::Specs::new().unwrap().load();
        return assert_map_refused(loaded, "tcp_cc_kfuncs", "kf_cc");
    }
    let objs = tcp_cc_kfuncs::Specs::new().unwrap().load().unwrap();
    let name = "ebpf_test_kf";
    let probe = unconnected_socket();
    assert_eq!(
        set_congestion(&probe, name).unwrap_err().raw_os_error(),
        Some(libc::ENOENT),
        "not registered yet"
    );
    let before: Vec<u64> = [&objs.programs.kf_cc_init, &objs.programs.kf_cc_cong_avoid]
        .iter()
        .map(|p| p.info().unwrap().run_count)
        .collect();
    let (init_runs, cong_avoid_runs) = {
        let _stats = enable_stats().unwrap();
        let links = objs.attach().unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].target(), "struct_ops `kf_cc`");
        assert_eq!(transfer_with(name), 64 << 16);
        let runs = |p: &ebpf_skeleton::Program| p.info().unwrap().run_count;
        (
            runs(&objs.programs.kf_cc_init) - before[0],
            runs(&objs.programs.kf_cc_cong_avoid) - before[1],
        )
    };
    let bss = &objs.bss;
    assert_eq!(bss.inits.get(), 1, "one connection initialised");
    assert_eq!(init_runs, 1, "the kernel ran init once");
    assert!(bss.cong_avoids.get() > 0, "ACKs went through cong_avoid");
    assert!(cong_avoid_runs > 0, "the kernel counted cong_avoid runs");
    assert!(
        cong_avoid_runs <= bss.cong_avoids.get(),
        "{cong_avoid_runs} runs counted while statistics were on, {} in all",
        bss.cong_avoids.get()
    );
    // What the kernel's Reno computed at init from the initial window.
    let cwnd = bss.init_cwnd.get();
    assert!(cwnd > 0, "an initial window");
    assert_eq!(
        bss.init_ssthresh.get(),
        (cwnd / 2).max(2),
        "tcp_reno_ssthresh"
    );
    assert_eq!(bss.init_undo_cwnd.get(), cwnd, "tcp_reno_undo_cwnd");
    assert_eq!(
        Some(bss.text_addr.get()),
        kallsyms_address("_text"),
        "the ksym `_text` is the kernel's"
    );
    // Unregistered with its link (dropped above).
    let after = unconnected_socket();
    assert_eq!(
        set_congestion(&after, name).unwrap_err().raw_os_error(),
        Some(libc::ENOENT)
    );
}
