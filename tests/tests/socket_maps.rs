//! Maps of sockets, over loopback sockets made in each test: a socket put
//! in a `SockMap` or `SockHash` (Linux 4.14 / 4.18) receives what an sk_msg
//! or sk_skb program redirects to it (`sk_skb/verdict` needs 5.13; on 6.10
//! and later the attachments are BPF links); a sockops program fills a
//! `SockHash` that Rust reads back; an sk_reuseport program picks the socket
//! of a `ReuseportArray` (4.19) that Rust filled.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use ebpf_skeleton::map::socket_cookie;
use ebpf_skeleton::{ebpf_skeleton, Error, Link, Objects, ReuseportArray, SockHash, SockMap};
use ebpf_skeleton_tests::cgroup2_root;
use ebpf_skeleton_tests::kernel::{kernel, Feature};

ebpf_skeleton!("../bpf/sockets.bpf.o");

use sockets::types::PortKey;

/// A loopback TCP connection: the client's socket and the server's.
fn connection(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    (client, server)
}

fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

/// Reads exactly `n` bytes (what a redirect delivered).
fn receive(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).expect("the redirected bytes");
    buf
}

/// Whether `stream` has nothing to read now.
fn nothing_to_read(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    let nothing = matches!((&*stream).read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock);
    stream.set_nonblocking(false).unwrap();
    nothing
}

/// The link's kind on this kernel: a BPF link from Linux 6.10 on, an
/// attachment by BPF_PROG_ATTACH (no descriptor) before.
fn expect_link_on_this_kernel(link: &Link) {
    assert_eq!(
        link.fd().is_some(),
        kernel().has(Feature::SockmapLink),
        "a sockmap BPF link exactly from Linux 6.10 on; this is {}",
        kernel().release
    );
    assert!(link.target().contains("socket map"), "{}", link.target());
}

/// Two loopback connections, `a` and `b`, sockets of which are put in a
/// socket map.
struct Pair {
    listener: TcpListener,
    a: TcpStream,
    a_server: TcpStream,
    b: TcpStream,
    _b_server: TcpStream,
}

/// Which socket of `a` goes in the map: the one that sends (for sk_msg
/// programs) or the one that receives what `a` sends (for sk_skb ones).
#[derive(Clone, Copy)]
enum Watch {
    Sender,
    Receiver,
}

/// Puts `a`'s socket (as `watch` says) in slot 0 of `map` and `b` in slot
/// 1, has the programs redirect to slot 1, sends `text` from `a`, and
/// checks that `b` received it and `a`'s peer nothing.
fn redirect_through(objs: &sockets::Objects, map: &SockMap, watch: Watch, text: &[u8]) -> Pair {
    let listener = listener();
    let (mut a, a_server) = connection(&listener);
    let (mut b, b_server) = connection(&listener);
    // Sockets join the programs when put in the map after they attached.
    match watch {
        Watch::Sender => map.set(0, &a).unwrap(),
        Watch::Receiver => map.set(0, &a_server).unwrap(),
    }
    map.set(1, &b).unwrap();
    objs.bss.redirect_to.set(1);
    a.write_all(text).unwrap();
    assert_eq!(receive(&mut b, text.len()), text);
    assert!(
        nothing_to_read(&a_server),
        "the bytes were redirected, not delivered"
    );
    Pair {
        listener,
        a,
        a_server,
        b,
        _b_server: b_server,
    }
}

#[test]
fn a_socket_in_a_sock_map_receives_what_sk_msg_redirects() {
    let objs = sockets::Objects::load().expect("load");
    let map: &SockMap = &objs.maps.msg_map;
    let link = objs
        .programs
        .msg_to_slot
        .attach_sk_msg(map)
        .expect("attach sk_msg");
    expect_link_on_this_kernel(&link);
    let pair = redirect_through(&objs, map, Watch::Sender, b"hello through the map");
    assert_eq!(objs.bss.msgs.get(), 1);
    assert_eq!(
        map.cookie(0).unwrap(),
        Some(socket_cookie(&pair.a).unwrap())
    );
    assert_eq!(
        map.cookie(1).unwrap(),
        Some(socket_cookie(&pair.b).unwrap())
    );
    assert_eq!(map.cookie(2).unwrap(), None);

    // Detached: a socket put in the map from now on sends as usual.
    drop(link);
    let (mut c, mut c_server) = connection(&pair.listener);
    map.set(2, &c).unwrap();
    c.write_all(b"plain").unwrap();
    assert_eq!(receive(&mut c_server, 5), b"plain");
    assert_eq!(objs.bss.msgs.get(), 1);
    assert!(map.remove(2).unwrap());
    assert!(!map.remove(2).unwrap());
}

#[test]
fn a_socket_in_a_sock_hash_receives_what_sk_msg_redirects() {
    let objs = sockets::Objects::load().expect("load");
    let hash: &SockHash<PortKey> = &objs.maps.msg_hash;
    let _link = objs
        .programs
        .msg_to_key
        .attach_sk_msg(hash)
        .expect("attach sk_msg");
    let l = listener();
    let (mut a, a_server) = connection(&l);
    let (mut b, _b_server) = connection(&l);
    let key = |s: &TcpStream| PortKey {
        port: u32::from(s.local_addr().unwrap().port()),
    };
    hash.set(&key(&a), &a).unwrap();
    hash.set(&key(&b), &b).unwrap();
    objs.bss.redirect_to.set(key(&b).port);
    a.write_all(b"keyed").unwrap();
    assert_eq!(receive(&mut b, 5), b"keyed");
    assert!(nothing_to_read(&a_server));
    let mut keys: Vec<u32> = hash.keys().map(|k| k.unwrap().port).collect();
    keys.sort();
    let mut expected = vec![key(&a).port, key(&b).port];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(
        hash.cookie(&key(&b)).unwrap(),
        Some(socket_cookie(&b).unwrap())
    );
    let (c, _c_server) = connection(&l);
    let err = hash
        .insert(&key(&b), &c, ebpf_skeleton::UpdateFlags::NO_EXIST)
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EEXIST), "{err}");
    assert!(hash.remove(&key(&a)).unwrap());
    assert!(!hash.remove(&key(&a)).unwrap());
}

#[test]
fn a_stream_parser_and_verdict_redirect_what_a_socket_receives() {
    let objs = sockets::Objects::load().expect("load");
    let map = &objs.maps.stream_map;
    let parser = objs
        .programs
        .whole_skb
        .attach_sk_skb_stream_parser(map)
        .expect("parser");
    let verdict = objs
        .programs
        .stream_to_slot
        .attach_sk_skb_stream_verdict(map)
        .expect("verdict");
    expect_link_on_this_kernel(&parser);
    expect_link_on_this_kernel(&verdict);
    // What `a` sends arrives at its peer, whose programs hand it to `b`.
    let pair = redirect_through(&objs, map, Watch::Receiver, b"parsed and redirected");
    assert!(objs.bss.skbs.get() >= 1);
    assert_eq!(
        map.cookie(0).unwrap(),
        Some(socket_cookie(&pair.a_server).unwrap())
    );
}

#[test]
fn a_verdict_without_a_parser_redirects_what_a_socket_receives() {
    let objs = sockets::Objects::load().expect("load");
    let map = &objs.maps.verdict_map;
    let attached = objs.programs.skb_to_slot.attach_sk_skb_verdict(map);
    if !kernel().at_least(5, 13) {
        // The hook is 5.13's: the kernel knows no such attach type.
        let err = attached.expect_err("an sk_skb_verdict attach before 5.13");
        let Error::Attach {
            program, target, ..
        } = &err
        else {
            panic!("expected an attach error, got {err}");
        };
        assert_eq!(program, "skb_to_slot", "{err}");
        assert_eq!(
            target, "the sk_skb_verdict hook of socket map `verdict_map`",
            "{err}"
        );
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        let needs = format!(
            "the sk_skb_verdict hook needs Linux 5.13 or later and this kernel is {}: \
             attach a stream parser and a stream verdict instead",
            kernel().release
        );
        assert!(err.to_string().ends_with(&needs), "{err}");
        return;
    }
    let _link = attached.expect("verdict");
    redirect_through(&objs, map, Watch::Receiver, b"verdict");
    assert!(objs.bss.skbs.get() >= 1);
}

#[test]
fn a_program_of_the_wrong_kind_does_not_attach() {
    let objs = sockets::Objects::load().expect("load");
    let err = objs
        .programs
        .whole_skb
        .attach_sk_msg(&objs.maps.msg_map)
        .unwrap_err();
    assert!(matches!(err, Error::Attach { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("whole_skb") && text.contains("msg_map"),
        "{text}"
    );
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
}

#[test]
fn a_sockops_program_fills_a_sock_hash_that_rust_reads() {
    let objs = sockets::Objects::load().expect("load");
    let cgroup = File::open(cgroup2_root()).unwrap();
    let _link = objs
        .programs
        .add_connection
        .attach_cgroup(&cgroup)
        .expect("attach sockops");
    let l = listener();
    objs.bss
        .ops_port
        .set(u32::from(l.local_addr().unwrap().port()));
    let (client, _server) = connection(&l);
    let key = PortKey {
        port: u32::from(client.local_addr().unwrap().port()),
    };
    assert_eq!(
        objs.maps.ops_hash.cookie(&key).unwrap(),
        Some(socket_cookie(&client).unwrap()),
        "the program put the client's socket under its port"
    );
    // A connection to another port is left out.
    let other = listener();
    let (elsewhere, _s) = connection(&other);
    let key = PortKey {
        port: u32::from(elsewhere.local_addr().unwrap().port()),
    };
    assert_eq!(objs.maps.ops_hash.cookie(&key).unwrap(), None);
}

#[test]
fn a_sock_map_of_four_byte_values_is_written_but_not_read() {
    let objs = sockets::Objects::load().expect("load");
    let l = listener();
    let (a, _a_server) = connection(&l);
    objs.maps.narrow.set(0, &a).unwrap();
    let err = objs.maps.narrow.cookie(0).unwrap_err();
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("8-byte"), "{source}");
    assert!(objs.maps.narrow.remove(0).unwrap());
}

/// A UDP socket bound to `addr` with SO_REUSEPORT (set before bind, which
/// std cannot do).
fn reuseport_socket(addr: SocketAddr) -> UdpSocket {
    let SocketAddr::V4(v4) = addr else {
        unreachable!()
    };
    // SAFETY: plain system calls; the descriptor is owned right away, and
    // the option and address structs outlive the calls that read them.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let ret = libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as u32,
        );
        assert_eq!(ret, 0, "SO_REUSEPORT: {}", std::io::Error::last_os_error());
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as u16,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let ret = libc::bind(
            fd.as_raw_fd(),
            (&sin as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as u32,
        );
        assert_eq!(ret, 0, "bind: {}", std::io::Error::last_os_error());
        UdpSocket::from(fd)
    }
}

/// Whether `socket` has no datagram waiting.
fn no_datagram(socket: &UdpSocket) -> bool {
    socket.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    let none = socket.recv(&mut buf).is_err();
    socket.set_nonblocking(false).unwrap();
    none
}

#[test]
fn an_sk_reuseport_program_picks_the_socket_of_its_array() {
    let objs = sockets::Objects::load().expect("load");
    let first = reuseport_socket("127.0.0.1:0".parse().unwrap());
    let addr = first.local_addr().unwrap();
    let second = reuseport_socket(addr);
    let reuse: &ReuseportArray = &objs.maps.reuse;
    reuse.set(0, &first).unwrap();
    reuse.set(1, &second).unwrap();
    assert_eq!(
        reuse.cookie(1).unwrap(),
        Some(socket_cookie(&second).unwrap())
    );
    assert_eq!(reuse.cookie(2).unwrap(), None);
    let link = objs.programs.pick_socket.attach_reuseport(&first).unwrap();
    assert_eq!(
        link.target(),
        format!("the reuseport group of socket {}", first.as_raw_fd())
    );
    assert!(link.fd().is_none(), "a socket option, not a BPF link");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (pick, to, other) in [(1, &second, &first), (0, &first, &second)] {
        objs.bss.pick.set(pick);
        for _ in 0..8 {
            sender.send_to(b"which", addr).unwrap();
        }
        to.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        for i in 0..8 {
            let n = to
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("pick {pick}, datagram {i}: {e}"));
            assert_eq!(&buf[..n], b"which");
        }
        assert!(
            no_datagram(to) && no_datagram(other),
            "pick {pick}: all 8 went to it"
        );
    }
    assert!(reuse.remove(1).unwrap());
    assert_eq!(reuse.cookie(1).unwrap(), None);
}

/// The derive takes each map of sockets as its own typed field.
#[derive(Objects)]
#[ebpf(object = "../bpf/sockets.bpf.o")]
struct Sockets {
    msg_map: SockMap,
    msg_hash: SockHash<PortKey>,
    reuse: ReuseportArray,
    msg_to_slot: ebpf_skeleton::Program,
}

#[test]
fn derived_fields_are_socket_maps() {
    let objs = Sockets::load().expect("load");
    let _link = objs.msg_to_slot.attach_sk_msg(&objs.msg_map).unwrap();
    assert_eq!((objs.msg_map.len(), objs.reuse.len()), (4, 4));
    assert_eq!(objs.msg_hash.keys().count(), 0);
}
