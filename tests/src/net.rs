//! Networks made for a test: a network namespace of its own, veth pairs in
//! it, raw Ethernet frames sent into an interface, and an AF_XDP socket
//! that receives what an XDP program redirects to it.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

/// The EtherType of the test's frames (IEEE local experimental), which the
/// test programs look for.
pub const TEST_PROTO: u16 = 0x88b5;

/// Runs `test` on a thread of its own in a new network namespace (the
/// thread's alone: the rest of the process keeps its network), which goes
/// with the thread and everything made in it. Panics propagate.
pub fn in_new_netns<T: Send>(test: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: a plain system call, affecting this thread only.
            let ret = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(
                ret,
                0,
                "unshare(CLONE_NEWNET): {}",
                io::Error::last_os_error()
            );
            test()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Makes the veth pair `a`-`b` in the calling thread's network namespace,
/// both up; returns their interface indexes.
pub fn veth(a: &str, b: &str) -> (u32, u32) {
    ip(&["link", "add", "name", a, "type", "veth", "peer", "name", b]);
    ip(&["link", "set", "dev", a, "up"]);
    ip(&["link", "set", "dev", b, "up"]);
    // The kernel turns an interface's queueing on (and its state to UP)
    // a moment after it comes up; a frame sent before then is dropped.
    let up = |dev: &str| {
        let out = Command::new("ip")
            .args(["-o", "link", "show", "dev", dev])
            .output();
        out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("state UP"))
    };
    assert!(
        crate::eventually(std::time::Duration::from_secs(10), || up(a) && up(b)),
        "{a} and {b} never came up"
    );
    (ifindex(a), ifindex(b))
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The index of the interface `name`.
pub fn ifindex(name: &str) -> u32 {
    let c = CString::new(name).unwrap();
    // SAFETY: a valid C string.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert_ne!(index, 0, "no interface {name}");
    index
}

/// A raw packet socket that sends Ethernet frames out of one interface.
pub struct FrameSender {
    fd: OwnedFd,
    ifindex: u32,
}

impl FrameSender {
    pub fn new(ifindex: u32) -> FrameSender {
        // SAFETY: a plain system call; the descriptor is owned right away.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0, "AF_PACKET socket: {}", io::Error::last_os_error());
        // SAFETY: the kernel just returned this descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        FrameSender { fd, ifindex }
    }

    /// Sends a broadcast frame of the test's EtherType carrying `payload`.
    pub fn send(&self, payload: &[u8]) {
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
        frame.extend_from_slice(&TEST_PROTO.to_be_bytes());
        frame.extend_from_slice(payload);
        // SAFETY: zeroes are a valid sockaddr_ll.
        let mut to: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        to.sll_family = libc::AF_PACKET as u16;
        to.sll_ifindex = self.ifindex as i32;
        to.sll_halen = 6;
        // SAFETY: the frame and the address outlive the call.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&to as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(
            n,
            frame.len() as isize,
            "sendto: {}",
            io::Error::last_os_error()
        );
    }
}

/// Frames of the UMEM, and entries of each ring.
const FRAMES: usize = 64;
const FRAME_SIZE: usize = 4096;

/// An AF_XDP socket bound to one queue of an interface, in copy mode,
/// receiving only: its UMEM's 64 frames all handed to the kernel at once
/// (so it receives 64 frames in all).
pub struct XdpSocket {
    fd: OwnedFd,
    umem: Mapping,
    rx: Mapping,
    rx_offsets: libc::xdp_ring_offset,
    _fill: Mapping,
}

/// An mmap, unmapped on drop.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(len: usize, fd: Option<BorrowedFd<'_>>, offset: u64) -> Mapping {
        let (flags, raw) = match fd {
            Some(fd) => (libc::MAP_SHARED | libc::MAP_POPULATE, fd.as_raw_fd()),
            None => (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1),
        };
        // SAFETY: a fresh mapping; checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                raw,
                offset as libc::off_t,
            )
        };
        assert_ne!(
            ptr,
            libc::MAP_FAILED,
            "mmap: {}",
            io::Error::last_os_error()
        );
        Mapping {
            ptr: NonNull::new(ptr.cast()).unwrap(),
            len,
        }
    }

    /// The `AtomicU32` `offset` bytes in (a ring's producer or consumer).
    fn word(&self, offset: u64) -> &AtomicU32 {
        assert!(offset as usize + 4 <= self.len);
        // SAFETY: inside the mapping, 4-byte aligned (the kernel's layout),
        // and only ever accessed atomically.
        unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset as usize).cast()) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: mapped in `new` with this length; nothing borrows it now.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

fn set_option<T>(fd: &OwnedFd, name: i32, value: &T) {
    // SAFETY: `value` is readable for its size.
    let ret = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_XDP,
            name,
            (value as *const T).cast(),
            size_of::<T>() as u32,
        )
    };
    assert_eq!(
        ret,
        0,
        "setsockopt SOL_XDP {name}: {}",
        io::Error::last_os_error()
    );
}

impl XdpSocket {
    /// Binds a new AF_XDP socket to queue `queue` of interface `ifindex`.
    pub fn bind(ifindex: u32, queue: u32) -> XdpSocket {
        // SAFETY: a plain system call; the descriptor is owned right away.
        let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0, "AF_XDP socket: {}", io::Error::last_os_error());
        // SAFETY: the kernel just returned this descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let umem = Mapping::new(FRAMES * FRAME_SIZE, None, 0);
        let reg = libc::xdp_umem_reg {
            addr: umem.ptr.as_ptr() as u64,
            len: (FRAMES * FRAME_SIZE) as u64,
            chunk_size: FRAME_SIZE as u32,
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        };
        set_option(&fd, libc::XDP_UMEM_REG, &reg);
        let entries = FRAMES as u32;
        for ring in [
            libc::XDP_UMEM_FILL_RING,
            libc::XDP_UMEM_COMPLETION_RING,
            libc::XDP_RX_RING,
        ] {
            set_option(&fd, ring, &entries);
        }
        // SAFETY: zeroes are valid offsets, which the kernel fills in.
        let mut off: libc::xdp_mmap_offsets = unsafe { std::mem::zeroed() };
        let mut len = size_of::<libc::xdp_mmap_offsets>() as u32;
        // SAFETY: `off` is writable for `len` bytes.
        let ret = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_XDP,
                libc::XDP_MMAP_OFFSETS,
                (&mut off as *mut libc::xdp_mmap_offsets).cast(),
                &mut len,
            )
        };
        assert_eq!(ret, 0, "XDP_MMAP_OFFSETS: {}", io::Error::last_os_error());
        let rx = Mapping::new(
            off.rx.desc as usize + FRAMES * size_of::<libc::xdp_desc>(),
            Some(fd.as_fd()),
            libc::XDP_PGOFF_RX_RING as u64,
        );
        let fill = Mapping::new(
            off.fr.desc as usize + FRAMES * size_of::<u64>(),
            Some(fd.as_fd()),
            libc::XDP_UMEM_PGOFF_FILL_RING,
        );
        // Every frame of the UMEM goes to the kernel to receive into.
        for i in 0..FRAMES {
            let at = off.fr.desc as usize + i * size_of::<u64>();
            // SAFETY: inside the fill ring's mapping, 8-byte aligned; the
            // kernel reads it only once the producer below moves.
            unsafe {
                fill.ptr
                    .as_ptr()
                    .add(at)
                    .cast::<u64>()
                    .write((i * FRAME_SIZE) as u64)
            };
        }
        fill.word(off.fr.producer).store(entries, Ordering::Release);
        let addr = libc::sockaddr_xdp {
            sxdp_family: libc::AF_XDP as u16,
            sxdp_flags: libc::XDP_COPY,
            sxdp_ifindex: ifindex,
            sxdp_queue_id: queue,
            sxdp_shared_umem_fd: 0,
        };
        // SAFETY: the address outlives the call.
        let ret = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_xdp).cast(),
                size_of::<libc::sockaddr_xdp>() as u32,
            )
        };
        assert_eq!(ret, 0, "bind AF_XDP: {}", io::Error::last_os_error());
        XdpSocket {
            fd,
            umem,
            rx,
            rx_offsets: off.rx,
            _fill: fill,
        }
    }

    /// The frames received so far (each one copied out), consuming them.
    pub fn received(&mut self) -> Vec<Vec<u8>> {
        let producer = self
            .rx
            .word(self.rx_offsets.producer)
            .load(Ordering::Acquire);
        let consumer = self
            .rx
            .word(self.rx_offsets.consumer)
            .load(Ordering::Relaxed);
        let mut frames = Vec::new();
        for i in consumer..producer {
            let at =
                self.rx_offsets.desc as usize + (i as usize % FRAMES) * size_of::<libc::xdp_desc>();
            // SAFETY: a descriptor the kernel published (before `producer`)
            // inside the RX ring's mapping; it does not change until the
            // consumer moves past it.
            let desc = unsafe { self.rx.ptr.as_ptr().add(at).cast::<libc::xdp_desc>().read() };
            assert!(desc.addr as usize + desc.len as usize <= self.umem.len);
            // SAFETY: the frame lies in the UMEM, and the kernel is done
            // with it until it is handed back through the fill ring.
            let frame = unsafe {
                std::slice::from_raw_parts(
                    self.umem.ptr.as_ptr().add(desc.addr as usize),
                    desc.len as usize,
                )
            };
            frames.push(frame.to_vec());
        }
        self.rx
            .word(self.rx_offsets.consumer)
            .store(producer, Ordering::Release);
        frames
    }
}

impl AsFd for XdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Brings up `lo` in the calling thread's network namespace (a new
/// namespace starts with it down).
pub fn loopback_up() {
    ip(&["link", "set", "dev", "lo", "up"]);
}

/// Sends `n` UDP datagrams of 8 bytes from one loopback socket to another
/// and receives each of them.
pub fn udp_round_trips(n: usize) {
    use std::net::UdpSocket;
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 16];
    for i in 0..n {
        tx.send_to(&[i as u8; 8], rx.local_addr().unwrap()).unwrap();
        assert_eq!(rx.recv(&mut buf).unwrap(), 8, "datagram {i}");
    }
}
