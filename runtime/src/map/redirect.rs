//! The maps XDP programs redirect packets through with `bpf_redirect_map`:
//! `BPF_MAP_TYPE_DEVMAP` and `BPF_MAP_TYPE_DEVMAP_HASH` (to a network
//! interface), `BPF_MAP_TYPE_CPUMAP` (to another CPU) and
//! `BPF_MAP_TYPE_XSKMAP` (to an AF_XDP socket).
//!
//! Device and CPU entries may carry a program of their own (an `xdp/devmap`
//! or `xdp/cpumap` program) that runs on each packet redirected there, when
//! the map's values are the kernel's `struct bpf_devmap_val` or `struct
//! bpf_cpumap_val` (8 bytes) rather than a bare `u32`.

use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use crate::pod::Pod as _;

use super::typed::{slots, typed_map, TypedKeys};
use super::{Map, UpdateFlags};
use crate::error::Result;
use crate::Program;

/// What a device map holds for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevMapEntry {
    /// The interface packets go out of.
    pub ifindex: u32,
    /// The kernel's id of the program that runs on them first, if any
    /// (only maps with 8-byte values hold one).
    pub program_id: Option<u32>,
}

/// What a CPU map holds for a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuMapEntry {
    /// The size of the CPU's queue of packets, in packets.
    pub queue_size: u32,
    /// The kernel's id of the program that runs on them on that CPU, if any
    /// (only maps with 8-byte values hold one).
    pub program_id: Option<u32>,
}

/// A value of a device or CPU map: `first` (an ifindex or a queue size),
/// then, in 8-byte values, a program's descriptor (0: none).
fn entry_value(map: &Map, first: u32, program: Option<BorrowedFd<'_>>) -> Result<Vec<u8>> {
    let mut value = first.as_bytes().to_vec();
    match (map.info().value_size, program) {
        (4, None) => {}
        (8, program) => value.extend_from_slice(program.map_or(0, |p| p.as_raw_fd()).as_bytes()),
        (4, Some(_)) => {
            return Err(map.error(
                "store a program in an entry",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the map's values are 4 bytes, with no room for a program: declare them as \
                     `struct bpf_devmap_val` or `struct bpf_cpumap_val`",
                ),
            ))
        }
        (size, _) => {
            return Err(map.error(
                "store an entry",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the map's values are {size} bytes, not 4 or 8"),
                ),
            ))
        }
    }
    Ok(value)
}

/// The entry under `key`: its first word, and the program id after it in
/// 8-byte values (0: none).
fn read_entry(map: &Map, key: &[u8]) -> Result<Option<(u32, Option<u32>)>> {
    let Some(bytes) = map.lookup(key)? else {
        return Ok(None);
    };
    let word = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
    };
    let first = word(0).unwrap_or_default();
    Ok(Some((first, word(4).filter(|&id| id != 0))))
}

/// A device map (`BPF_MAP_TYPE_DEVMAP`): slot `i` holds the network
/// interface `bpf_redirect_map(&map, i, 0)` sends a packet out of. Linux
/// 4.14; programs on entries 5.8.
///
/// ```no_run
/// use ebpf_skeleton::DevMap;
///
/// # fn example(ports: &DevMap, ifindex: u32) -> ebpf_skeleton::Result<()> {
/// ports.set(0, ifindex)?;
/// assert_eq!(ports.get(0)?.map(|e| e.ifindex), Some(ifindex));
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `DevMap::try_from(map)`.
pub struct DevMap {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(DevMap, kinds: [DEVMAP], key: Some(4), value: None);

/// A hash of devices (`BPF_MAP_TYPE_DEVMAP_HASH`): like [`DevMap`], keyed
/// by any `u32` (an ifindex, say) rather than a slot. Linux 5.4.
///
/// ```no_run
/// use ebpf_skeleton::{DevMapHash, Program};
///
/// # fn example(ports: &DevMapHash, rewrite: &Program, ifindex: u32) -> ebpf_skeleton::Result<()> {
/// // Packets redirected to key `ifindex` leave through it, after `rewrite`
/// // (an `xdp/devmap` program) ran on them.
/// ports.set_with_program(ifindex, ifindex, rewrite)?;
/// for key in ports.keys() {
///     println!("{:?}", ports.get(key?)?);
/// }
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `DevMapHash::try_from(map)`.
pub struct DevMapHash {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(DevMapHash, kinds: [DEVMAP_HASH], key: Some(4), value: None);

/// `set`, `set_with_program`, `get`, `remove` and `keys` of a device map;
/// `$key` says what its keys are.
macro_rules! dev_map {
    ($name:ident, $key:literal) => {
        impl $name {
            /// The most entries the map holds.
            pub fn capacity(&self) -> u32 {
                self.map.info().max_entries
            }

            #[doc = concat!("Sends packets redirected to ", $key, " out of the interface `ifindex`.")]
            pub fn set(&self, key: u32, ifindex: u32) -> Result<()> {
                let value = entry_value(&self.map, ifindex, None)?;
                self.map.update(key.as_bytes(), &value, UpdateFlags::ANY)
            }

            #[doc = concat!("Sends packets redirected to ", $key, " out of the interface `ifindex`,")]
            /// after running `program` (an `xdp/devmap` program) on each.
            /// The map's values must be `struct bpf_devmap_val`.
            pub fn set_with_program(&self, key: u32, ifindex: u32, program: &Program) -> Result<()> {
                let value = entry_value(&self.map, ifindex, Some(program.fd()?))?;
                self.map.update(key.as_bytes(), &value, UpdateFlags::ANY)
            }

            #[doc = concat!("What ", $key, " holds, or `None`.")]
            pub fn get(&self, key: u32) -> Result<Option<DevMapEntry>> {
                Ok(read_entry(&self.map, key.as_bytes())?
                    .map(|(ifindex, program_id)| DevMapEntry { ifindex, program_id }))
            }

            /// The keys that hold an interface.
            pub fn keys(&self) -> TypedKeys<'_, u32> {
                TypedKeys::new(&self.map)
            }
        }
    };
}

dev_map!(DevMap, "slot `key`");
dev_map!(DevMapHash, "the key `key`");

impl DevMap {
    /// Empties slot `key` (the kernel does not say whether it held an
    /// interface).
    pub fn remove(&self, key: u32) -> Result<()> {
        self.map.delete(key.as_bytes()).map(drop)
    }
}

impl DevMapHash {
    /// Removes the entry under `key`; `false` if there was none.
    pub fn remove(&self, key: u32) -> Result<bool> {
        self.map.delete(key.as_bytes())
    }
}

/// A CPU map (`BPF_MAP_TYPE_CPUMAP`): slot `cpu` holds a queue that
/// `bpf_redirect_map(&map, cpu, 0)` hands packets to, for that CPU to build
/// them into socket buffers (and run the entry's program on them). Linux
/// 4.15; programs on entries 5.9.
///
/// ```no_run
/// use ebpf_skeleton::CpuMap;
///
/// # fn example(cpus: &CpuMap) -> ebpf_skeleton::Result<()> {
/// cpus.set(1, 256)?; // packets redirected to CPU 1, 256 queued at most
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `CpuMap::try_from(map)`.
pub struct CpuMap {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

slots!(CpuMap);
typed_map!(CpuMap, kinds: [CPUMAP], key: Some(4), value: None);

impl CpuMap {
    /// Queues packets redirected to `cpu`, `queue_size` at most.
    pub fn set(&self, cpu: u32, queue_size: u32) -> Result<()> {
        let value = entry_value(&self.map, queue_size, None)?;
        self.map.update(cpu.as_bytes(), &value, UpdateFlags::ANY)
    }

    /// Queues packets redirected to `cpu`, `queue_size` at most, and runs
    /// `program` (an `xdp/cpumap` program) on each there. The map's values
    /// must be `struct bpf_cpumap_val`.
    pub fn set_with_program(&self, cpu: u32, queue_size: u32, program: &Program) -> Result<()> {
        let value = entry_value(&self.map, queue_size, Some(program.fd()?))?;
        self.map.update(cpu.as_bytes(), &value, UpdateFlags::ANY)
    }

    /// What slot `cpu` holds, or `None`.
    pub fn get(&self, cpu: u32) -> Result<Option<CpuMapEntry>> {
        Ok(
            read_entry(&self.map, cpu.as_bytes())?.map(|(queue_size, program_id)| CpuMapEntry {
                queue_size,
                program_id,
            }),
        )
    }

    /// Empties slot `cpu` (the kernel does not say whether it held a
    /// queue).
    pub fn remove(&self, cpu: u32) -> Result<()> {
        self.map.delete(cpu.as_bytes()).map(drop)
    }
}

/// An AF_XDP socket map (`BPF_MAP_TYPE_XSKMAP`): slot `i` holds the XDP
/// socket `bpf_redirect_map(&map, i, 0)` delivers a packet to, usually one
/// per receive queue. Linux 4.18.
///
/// The socket must be bound to the interface and queue the program runs
/// on. The kernel does not tell user space what a slot holds.
///
/// ```no_run
/// use ebpf_skeleton::XskMap;
/// use std::os::fd::OwnedFd;
///
/// # fn example(sockets: &XskMap, xsk: OwnedFd) -> ebpf_skeleton::Result<()> {
/// // `xsk`: an AF_XDP socket bound to queue 0 (by libxdp, say).
/// sockets.set(0, &xsk)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `XskMap::try_from(map)`.
pub struct XskMap {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

slots!(XskMap);
typed_map!(XskMap, kinds: [XSKMAP], key: Some(4), value: Some(4));

impl XskMap {
    /// Puts the AF_XDP socket `socket` in slot `index`.
    pub fn set(&self, index: u32, socket: &impl AsFd) -> Result<()> {
        let fd = socket.as_fd().as_raw_fd();
        self.map
            .update(index.as_bytes(), fd.as_bytes(), UpdateFlags::ANY)
    }

    /// Empties slot `index` (the kernel does not say whether it held a
    /// socket).
    pub fn remove(&self, index: u32) -> Result<()> {
        self.map.delete(index.as_bytes()).map(drop)
    }
}
