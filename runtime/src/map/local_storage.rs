//! Local storage: maps whose entries belong to a kernel object and go with
//! it. `BPF_MAP_TYPE_SK_STORAGE` (a socket), `BPF_MAP_TYPE_TASK_STORAGE` (a
//! process, named by a pidfd), `BPF_MAP_TYPE_INODE_STORAGE` (a file's inode)
//! and `BPF_MAP_TYPE_CGRP_STORAGE` (a cgroup v2 directory).
//!
//! Programs find an entry from the object itself (`bpf_sk_storage_get(&map,
//! sk, ...)`); user space names the object by a descriptor of it, which is
//! the key the kernel takes. Entries cannot be listed: the kernel has no
//! `BPF_MAP_GET_NEXT_KEY` for them.

use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use crate::pod::Pod as _;

use super::typed::{self, typed_map};
use super::{Map, UpdateFlags};
use crate::error::{Error, Result};
use crate::os::errno::check;

/// Implements `get`, `insert` and `remove` on a local storage whose entries
/// belong to what `$owner` describes.
macro_rules! local_storage {
    ($name:ident, $owner:literal) => {
        impl<V: $crate::Pod> $name<V> {
            #[doc = concat!("The value stored for ", $owner, ", or `None`.")]
            #[inline]
            pub fn get(&self, owner: impl AsFd) -> Result<Option<V>> {
                typed::lookup(&self.map, &key(&owner))
            }

            #[doc = concat!("Stores `value` for ", $owner, "; `flags` as for")]
            /// [`HashMap::insert`](crate::HashMap::insert) ([`UpdateFlags::LOCK`]
            /// for a value holding a `bpf_spin_lock`).
            #[inline]
            pub fn insert(&self, owner: impl AsFd, value: &V, flags: UpdateFlags) -> Result<()> {
                self.map
                    .update(key(&owner).as_bytes(), value.as_bytes(), flags)
            }

            #[doc = concat!("Removes the value stored for ", $owner, "; `false` if there was none.")]
            pub fn remove(&self, owner: impl AsFd) -> Result<bool> {
                self.map.delete(key(&owner).as_bytes())
            }
        }
    };
}

/// The key of a local storage: the owner's descriptor number.
fn key(owner: &impl AsFd) -> i32 {
    owner.as_fd().as_raw_fd()
}

/// Socket local storage (`BPF_MAP_TYPE_SK_STORAGE`): a `V` for each socket,
/// freed with the socket. Linux 5.2.
///
/// The socket is any descriptor of it (`TcpStream`, `UdpSocket`, ...).
///
/// ```no_run
/// use ebpf_skeleton::{SkStorage, UpdateFlags};
/// use std::net::TcpStream;
///
/// # fn example(storage: &SkStorage<u64>) -> ebpf_skeleton::Result<()> {
/// let stream = TcpStream::connect("127.0.0.1:8080").unwrap();
/// storage.insert(&stream, &7, UpdateFlags::ANY)?;
/// // A program sees it through `bpf_sk_storage_get(&map, sk, 0, 0)`.
/// assert_eq!(storage.get(&stream)?, Some(7));
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `SkStorage::<V>::try_from(map)`.
pub struct SkStorage<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(SkStorage<V>, kinds: [SK_STORAGE], key: Some(4), value: Some(size_of::<V>()));
local_storage!(SkStorage, "the socket `owner`");

/// Task local storage (`BPF_MAP_TYPE_TASK_STORAGE`): a `V` for each task,
/// freed when it exits. Linux 5.11.
///
/// User space names a process by a pidfd ([`TaskStorage::pidfd`]); programs
/// by its `task_struct` (`bpf_task_storage_get(&map, task, 0, 0)`). A pidfd
/// names the process's main thread.
///
/// ```no_run
/// use ebpf_skeleton::{TaskStorage, UpdateFlags};
///
/// # fn example(storage: &TaskStorage<u64>, pid: u32) -> ebpf_skeleton::Result<()> {
/// let process = TaskStorage::<u64>::pidfd(pid)?;
/// storage.insert(&process, &1, UpdateFlags::ANY)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `TaskStorage::<V>::try_from(map)`.
pub struct TaskStorage<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(TaskStorage<V>, kinds: [TASK_STORAGE], key: Some(4), value: Some(size_of::<V>()));
local_storage!(TaskStorage, "the process of the pidfd `owner`");

impl<V: crate::Pod> TaskStorage<V> {
    /// A pidfd of the process `pid` (`pidfd_open(2)`, Linux 5.3), the key
    /// of its entry.
    pub fn pidfd(pid: u32) -> Result<OwnedFd> {
        let what = || format!("opening a pidfd of process {pid}");
        let pid = libc::pid_t::try_from(pid)
            .map_err(|_| Error::sys(what(), std::io::Error::from_raw_os_error(libc::EINVAL)))?;
        // SAFETY: a plain system call; the descriptor is owned right away.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = check(fd as i32).map_err(|e| Error::sys(what(), e))?;
        // SAFETY: the kernel just returned this descriptor to us.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// Inode local storage (`BPF_MAP_TYPE_INODE_STORAGE`): a `V` for each
/// inode, freed with it. Linux 5.10, on kernels running the BPF LSM
/// (`lsm=...,bpf`); only LSM programs reach it.
///
/// The inode is that of any open descriptor of the file (a [`std::fs::File`]):
/// two descriptors of one file share the entry.
///
/// ```no_run
/// use ebpf_skeleton::{InodeStorage, UpdateFlags};
/// use std::fs::File;
///
/// # fn example(storage: &InodeStorage<u32>) -> ebpf_skeleton::Result<()> {
/// let config = File::open("/etc/passwd").unwrap();
/// storage.insert(&config, &1, UpdateFlags::ANY)?; // an LSM program sees it on open
/// assert_eq!(storage.get(&File::open("/etc/passwd").unwrap())?, Some(1));
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `InodeStorage::<V>::try_from(map)`.
pub struct InodeStorage<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(InodeStorage<V>, kinds: [INODE_STORAGE], key: Some(4), value: Some(size_of::<V>()));
local_storage!(InodeStorage, "the inode of the file `owner`");

/// Cgroup local storage (`BPF_MAP_TYPE_CGRP_STORAGE`): a `V` for each
/// cgroup v2, freed with it. Linux 6.2.
///
/// The cgroup is a descriptor of its directory (`File::open` of
/// `/sys/fs/cgroup/<path>`); programs reach it through a `struct cgroup`
/// (`bpf_cgrp_storage_get`). Not the older `BPF_MAP_TYPE_CGROUP_STORAGE`,
/// whose entries belong to a program's attachment.
///
/// ```no_run
/// use ebpf_skeleton::{CgrpStorage, UpdateFlags};
/// use std::fs::File;
///
/// # fn example(limits: &CgrpStorage<u64>) -> ebpf_skeleton::Result<()> {
/// let cgroup = File::open("/sys/fs/cgroup/system.slice").unwrap();
/// limits.insert(&cgroup, &(64 << 20), UpdateFlags::ANY)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// Made from a [`Map`] with `CgrpStorage::<V>::try_from(map)`.
pub struct CgrpStorage<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(CgrpStorage<V>, kinds: [CGRP_STORAGE], key: Some(4), value: Some(size_of::<V>()));
local_storage!(CgrpStorage, "the cgroup of the directory `owner`");
