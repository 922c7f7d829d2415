//! Maps of sockets: `BPF_MAP_TYPE_SOCKMAP` and `BPF_MAP_TYPE_SOCKHASH`
//! (which `sk_msg` and `sk_skb` programs redirect data between), and
//! `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY` (which an `sk_reuseport` program picks
//! a socket of a `SO_REUSEPORT` group from).
//!
//! User space puts sockets in by descriptor (any `AsFd`: `TcpStream`,
//! `UdpSocket`, ...). What it reads back is the socket's cookie, the
//! kernel's 64-bit id of it ([`socket_cookie`]), when the map's values are
//! 8 bytes; maps with 4-byte values cannot be read from user space.

use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd};

use super::typed::{slots, typed_map, TypedKeys};
use super::{Map, UpdateFlags};
use crate::error::{Error, Result};
use crate::Pod;

/// The cookie of `socket` (`SO_COOKIE`): the kernel's id of it, which is
/// what socket maps give back for their entries.
pub fn socket_cookie(socket: &impl AsFd) -> Result<u64> {
    let mut cookie = 0u64;
    let mut len = size_of::<u64>() as libc::socklen_t;
    // SAFETY: `cookie` is writable for `len` bytes.
    let ret = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_COOKIE,
            (&mut cookie as *mut u64).cast(),
            &mut len,
        )
    };
    if ret != 0 {
        return Err(Error::sys(
            "reading a socket's cookie (SO_COOKIE)",
            io::Error::last_os_error(),
        ));
    }
    Ok(cookie)
}

/// A socket's descriptor as a value of `map` (4 or 8 bytes).
fn socket_value(map: &Map, socket: &impl AsFd) -> Vec<u8> {
    let fd = socket.as_fd().as_raw_fd();
    if map.info().value_size == 8 {
        u64::from(fd as u32).as_bytes().to_vec()
    } else {
        fd.as_bytes().to_vec()
    }
}

/// The cookie of the socket under `key`, or `None`; an error for maps with
/// 4-byte values, which the kernel does not read back.
fn cookie_under(map: &Map, key: &[u8]) -> Result<Option<u64>> {
    if map.info().value_size != 8 {
        return Err(map.error(
            "read a socket's cookie",
            io::Error::new(
                io::ErrorKind::Unsupported,
                "the kernel gives back socket cookies only from maps with 8-byte (`__u64`) values",
            ),
        ));
    }
    let mut cookie = u64::new_zeroed();
    Ok(map
        .lookup_into(key, cookie.as_mut_bytes())?
        .then_some(cookie))
}

mod sealed {
    pub trait Sealed {}
}

/// A map that `sk_msg` and `sk_skb` programs attach to: a [`SockMap`] or a
/// [`SockHash`] (see [`Program::attach_sk_msg`](crate::Program::attach_sk_msg)).
pub trait SocketMap: sealed::Sealed {
    /// The byte-level map.
    fn socket_map(&self) -> &Map;
}

/// A socket map (`BPF_MAP_TYPE_SOCKMAP`): slot `i` holds a TCP, UDP or
/// Unix socket. Programs attached to the map run on its sockets' traffic
/// (`sk_msg` on what they send, `sk_skb` on what they receive) and redirect
/// it to another slot (`bpf_msg_redirect_map`, `bpf_sk_redirect_map`).
/// Linux 4.14.
///
/// ```no_run
/// use ebpf_skeleton::SockMap;
/// use std::net::TcpStream;
///
/// # fn example(sockets: &SockMap) -> ebpf_skeleton::Result<()> {
/// let stream = TcpStream::connect("127.0.0.1:8080").unwrap();
/// sockets.set(0, &stream)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `SockMap::try_from(map)`.
pub struct SockMap {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

slots!(SockMap);
typed_map!(SockMap, kinds: [SOCKMAP], key: Some(4), value: None);

impl SockMap {
    /// Puts `socket` in slot `index` (an established TCP socket, a bound
    /// UDP socket, a Unix socket), replacing what was there.
    pub fn set(&self, index: u32, socket: &impl AsFd) -> Result<()> {
        self.insert(index, socket, UpdateFlags::ANY)
    }

    /// Puts `socket` in slot `index`; `flags` say whether the slot must or
    /// must not hold a socket already.
    pub fn insert(&self, index: u32, socket: &impl AsFd, flags: UpdateFlags) -> Result<()> {
        let value = socket_value(&self.map, socket);
        self.map.update(index.as_bytes(), &value, flags)
    }

    /// Takes the socket out of slot `index`; `false` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool> {
        match self.map.delete(index.as_bytes()) {
            // The kernel says EINVAL, not ENOENT, for an empty slot.
            Err(e) if e.errno() == Some(libc::EINVAL) && index < self.len() => Ok(false),
            other => other,
        }
    }

    /// The cookie of the socket in slot `index` ([`socket_cookie`]), or
    /// `None` if empty. Needs 8-byte values.
    pub fn cookie(&self, index: u32) -> Result<Option<u64>> {
        cookie_under(&self.map, index.as_bytes())
    }
}

impl sealed::Sealed for SockMap {}
impl SocketMap for SockMap {
    fn socket_map(&self) -> &Map {
        &self.map
    }
}

/// A socket hash (`BPF_MAP_TYPE_SOCKHASH`): like [`SockMap`], with keys of
/// type `K` (a connection's addresses and ports, say). Linux 4.18.
///
/// ```no_run
/// use ebpf_skeleton::map::socket_cookie;
/// use ebpf_skeleton::SockHash;
/// use std::net::TcpStream;
///
/// # fn example(by_port: &SockHash<u32>) -> ebpf_skeleton::Result<()> {
/// let stream = TcpStream::connect("127.0.0.1:8080").unwrap();
/// let port = u32::from(stream.local_addr().unwrap().port());
/// by_port.set(&port, &stream)?;
/// assert_eq!(by_port.cookie(&port)?, Some(socket_cookie(&stream)?));
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `SockHash::<K>::try_from(map)`.
pub struct SockHash<K = u32> {
    map: Map,
    _types: PhantomData<fn() -> (K,)>,
}

typed_map!(SockHash<K>, kinds: [SOCKHASH], key: Some(size_of::<K>()), value: None);

impl<K: Pod> SockHash<K> {
    /// Stores `socket` under `key`, replacing what was there.
    pub fn set(&self, key: &K, socket: &impl AsFd) -> Result<()> {
        self.insert(key, socket, UpdateFlags::ANY)
    }

    /// Stores `socket` under `key`; `flags` say whether the key must or
    /// must not hold a socket already.
    pub fn insert(&self, key: &K, socket: &impl AsFd, flags: UpdateFlags) -> Result<()> {
        let value = socket_value(&self.map, socket);
        self.map.update(key.as_bytes(), &value, flags)
    }

    /// Takes the socket under `key` out; `false` if there was none.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.delete(key.as_bytes())
    }

    /// The cookie of the socket under `key` ([`socket_cookie`]), or `None`.
    /// Needs 8-byte values.
    pub fn cookie(&self, key: &K) -> Result<Option<u64>> {
        cookie_under(&self.map, key.as_bytes())
    }

    /// The keys.
    pub fn keys(&self) -> TypedKeys<'_, K> {
        TypedKeys::new(&self.map)
    }
}

impl<K: Pod> sealed::Sealed for SockHash<K> {}
impl<K: Pod> SocketMap for SockHash<K> {
    fn socket_map(&self) -> &Map {
        &self.map
    }
}

/// A reuseport socket array (`BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`): slot `i`
/// holds a socket of one `SO_REUSEPORT` group, for an `sk_reuseport`
/// program attached to the group to pick with `bpf_sk_select_reuseport`.
/// Linux 4.19.
///
/// ```no_run
/// use ebpf_skeleton::ReuseportArray;
/// use std::net::UdpSocket;
///
/// # fn example(group: &ReuseportArray, workers: &[UdpSocket]) -> ebpf_skeleton::Result<()> {
/// // `workers`: UDP sockets bound to one port with SO_REUSEPORT.
/// for (slot, socket) in workers.iter().enumerate() {
///     group.set(slot as u32, socket)?;
/// }
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `ReuseportArray::try_from(map)`.
pub struct ReuseportArray {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

slots!(ReuseportArray);
typed_map!(ReuseportArray, kinds: [REUSEPORT_SOCKARRAY], key: Some(4), value: None);

impl ReuseportArray {
    /// Puts `socket` (bound, with `SO_REUSEPORT`; listening if TCP) in slot
    /// `index`. Every socket of the array must be in the same group.
    pub fn set(&self, index: u32, socket: &impl AsFd) -> Result<()> {
        let value = socket_value(&self.map, socket);
        self.map.update(index.as_bytes(), &value, UpdateFlags::ANY)
    }

    /// Empties slot `index`; `false` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool> {
        self.map.delete(index.as_bytes())
    }

    /// The cookie of the socket in slot `index` ([`socket_cookie`]), or
    /// `None` if empty. Needs 8-byte values.
    pub fn cookie(&self, index: u32) -> Result<Option<u64>> {
        cookie_under(&self.map, index.as_bytes())
    }
}

/// A cgroup array (`BPF_MAP_TYPE_CGROUP_ARRAY`): slot `i` holds a cgroup v2,
/// for programs to ask whether a task or a packet is under it
/// (`bpf_current_task_under_cgroup`, `bpf_skb_under_cgroup`). Linux 4.8.
///
/// The cgroup is a descriptor of its directory; the kernel does not tell
/// user space what a slot holds.
///
/// ```no_run
/// use ebpf_skeleton::CgroupArray;
/// use std::fs::File;
///
/// # fn example(watched: &CgroupArray) -> ebpf_skeleton::Result<()> {
/// watched.set(0, &File::open("/sys/fs/cgroup/user.slice").unwrap())?;
/// // A program asks `bpf_current_task_under_cgroup(&watched, 0)`.
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `CgroupArray::try_from(map)`.
pub struct CgroupArray {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

slots!(CgroupArray);
typed_map!(CgroupArray, kinds: [CGROUP_ARRAY], key: Some(4), value: Some(4));

impl CgroupArray {
    /// Puts the cgroup of the directory `cgroup` in slot `index`.
    pub fn set(&self, index: u32, cgroup: &impl AsFd) -> Result<()> {
        let fd = cgroup.as_fd().as_raw_fd();
        self.map
            .update(index.as_bytes(), fd.as_bytes(), UpdateFlags::ANY)
    }

    /// Empties slot `index`; `false` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool> {
        self.map.delete(index.as_bytes())
    }
}
