//! What can be decided about a map before its object is loaded: its sizes,
//! flags, NUMA node, extra, pinning, whether it is created at all, an
//! existing map to use instead, and the inner map of a map of maps. The
//! same settings make a map of no object ([`MapSpec::new`], created in
//! `create.rs`).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use super::MapType;
use crate::error::{Error, Kind, Result};
use crate::libbpf::map_name;
use crate::os::errno::check;

/// A map's settings before load, read from the object as libbpf sees it;
/// every field changed is applied at load.
///
/// ```no_run
/// # fn example(mut object: ebpf_skeleton::OpenObject) -> ebpf_skeleton::Result<()> {
/// // A stack-trace map whose value size the C program leaves to its loader.
/// let mut spec = object.map_spec("stackmap")?;
/// spec.value_size = 127 * 8; // PERF_MAX_STACK_DEPTH addresses
/// spec.max_entries = 16 * 1024;
/// object.apply_map(&spec)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone)]
pub struct MapSpec {
    name: String,
    map_type: MapType,
    /// The size of a key in bytes.
    pub key_size: u32,
    /// The size of a value in bytes (for per-CPU maps, of one CPU's value).
    pub value_size: u32,
    /// The most entries the map holds (for a ring buffer, its size in bytes:
    /// a power of two, a multiple of the page size).
    pub max_entries: u32,
    /// `BPF_F_*` creation flags (`BPF_F_NO_PREALLOC`, `BPF_F_NUMA_NODE`,
    /// `BPF_F_MMAPABLE`, ...).
    pub flags: u32,
    /// The NUMA node to allocate on. The kernel reads it only with
    /// `BPF_F_NUMA_NODE` in the flags, which is added at load (or
    /// [`MapSpec::create`]) when this differs from the node the spec was
    /// read with (0 for [`MapSpec::new`]); to ask for that same node, set
    /// the flag in `flags` yourself.
    pub numa_node: u32,
    /// The kind's extra setting (`map_extra`): a bloom filter's number of
    /// hash functions, an arena's address.
    pub map_extra: u64,
    /// Whether the map is created with its object (libbpf's autocreate).
    /// A skeleton holds every map of its object, so its load fails with
    /// [`Error::NotCreated`] for a map left out; `#[derive(Objects)]`
    /// loads part of an object instead.
    pub autocreate: bool,
    /// Where to pin the map in bpffs once created; if a compatible map is
    /// pinned there already, the object uses that one instead.
    pub pin_path: Option<PathBuf>,
    reuse: Option<Arc<OwnedFd>>,
    inner: Option<Arc<OwnedFd>>,
    loaded: Loaded,
}

/// The settings as read from libbpf, to apply only what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Loaded {
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    flags: u32,
    numa_node: u32,
    map_extra: u64,
    autocreate: bool,
    pin_path: Option<PathBuf>,
}

impl MapSpec {
    /// The settings of a map of no object, for [`MapSpec::create`]: `name`
    /// (the kernel keeps its first 15 characters), the kind, the key and
    /// value sizes in bytes and the most entries; no flags.
    ///
    /// ```no_run
    /// use ebpf_skeleton::{MapSpec, MapType};
    /// # fn example() -> ebpf_skeleton::Result<()> {
    /// let mut spec = MapSpec::new("counts", MapType::HASH, 4, 8, 1024);
    /// spec.flags = ebpf_skeleton::libbpf_sys::BPF_F_NO_PREALLOC;
    /// let counts = spec.create()?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn new(
        name: impl Into<String>,
        map_type: MapType,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> MapSpec {
        let loaded = Loaded {
            key_size,
            value_size,
            max_entries,
            flags: 0,
            numa_node: 0,
            map_extra: 0,
            autocreate: true,
            pin_path: None,
        };
        MapSpec {
            name: name.into(),
            map_type,
            key_size,
            value_size,
            max_entries,
            flags: 0,
            numa_node: 0,
            map_extra: 0,
            autocreate: true,
            pin_path: None,
            reuse: None,
            inner: None,
            loaded,
        }
    }

    pub(crate) fn read(map: NonNull<sys::bpf_map>) -> Self {
        let m = map.as_ptr();
        // SAFETY: for every call, `m` is a map of an open object; the pin path is
        // a NUL-terminated string libbpf owns, copied at once.
        let loaded = unsafe {
            let pin = sys::bpf_map__pin_path(m);
            Loaded {
                key_size: sys::bpf_map__key_size(m),
                value_size: sys::bpf_map__value_size(m),
                max_entries: sys::bpf_map__max_entries(m),
                flags: sys::bpf_map__map_flags(m),
                numa_node: sys::bpf_map__numa_node(m),
                map_extra: sys::bpf_map__map_extra(m),
                autocreate: sys::bpf_map__autocreate(m),
                pin_path: (!pin.is_null()).then(|| {
                    let bytes = std::ffi::CStr::from_ptr(pin).to_bytes();
                    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
                }),
            }
        };
        MapSpec {
            name: map_name(m),
            // SAFETY: as above.
            map_type: MapType(unsafe { sys::bpf_map__type(m) }),
            key_size: loaded.key_size,
            value_size: loaded.value_size,
            max_entries: loaded.max_entries,
            flags: loaded.flags,
            numa_node: loaded.numa_node,
            map_extra: loaded.map_extra,
            autocreate: loaded.autocreate,
            pin_path: loaded.pin_path.clone(),
            reuse: None,
            inner: None,
            loaded,
        }
    }

    /// Applies what changed since the spec was read.
    pub(crate) fn apply(&self, map: NonNull<sys::bpf_map>) -> Result<()> {
        let m = map.as_ptr();
        let was = &self.loaded;
        // SAFETY: for every call, `m` is a map of an open, unloaded object; the
        // descriptors and the path outlive the calls (libbpf duplicates a
        // reused descriptor and copies the path).
        unsafe {
            if self.key_size != was.key_size {
                self.configured("key_size", sys::bpf_map__set_key_size(m, self.key_size))?;
            }
            if self.value_size != was.value_size {
                self.configured(
                    "value_size",
                    sys::bpf_map__set_value_size(m, self.value_size),
                )?;
            }
            if self.max_entries != was.max_entries {
                let ret = sys::bpf_map__set_max_entries(m, self.max_entries);
                self.configured("max_entries", ret)?;
            }
            let flags = self.creation_flags();
            if flags != was.flags {
                self.configured("map_flags", sys::bpf_map__set_map_flags(m, flags))?;
            }
            if self.numa_node != was.numa_node {
                self.configured("numa_node", sys::bpf_map__set_numa_node(m, self.numa_node))?;
            }
            if self.map_extra != was.map_extra {
                self.configured("map_extra", sys::bpf_map__set_map_extra(m, self.map_extra))?;
            }
            if self.autocreate != was.autocreate {
                self.configured(
                    "autocreate",
                    sys::bpf_map__set_autocreate(m, self.autocreate),
                )?;
            }
            if self.pin_path != was.pin_path {
                let path = match &self.pin_path {
                    Some(path) => Some(
                        CString::new(path.as_os_str().as_encoded_bytes())
                            .map_err(|_| self.config_error("pin path", einval()))?,
                    ),
                    None => None,
                };
                let ptr = path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
                self.configured("pin path", sys::bpf_map__set_pin_path(m, ptr))?;
            }
            if let Some(inner) = &self.inner {
                let ret = sys::bpf_map__set_inner_map_fd(m, inner.as_raw_fd());
                self.configured("inner map", ret)?;
            }
            if let Some(reuse) = &self.reuse {
                self.configured("reused map", sys::bpf_map__reuse_fd(m, reuse.as_raw_fd()))?;
            }
        }
        Ok(())
    }

    /// The flags the map is created with: `flags`, plus `BPF_F_NUMA_NODE`
    /// when `numa_node` was changed (without the flag the kernel ignores
    /// the node).
    pub(crate) fn creation_flags(&self) -> u32 {
        if self.numa_node != self.loaded.numa_node {
            self.flags | sys::BPF_F_NUMA_NODE
        } else {
            self.flags
        }
    }

    /// The descriptors libbpf is given but does not duplicate (the inner
    /// map's), which must stay open until load.
    pub(crate) fn kept_fds(&self) -> impl Iterator<Item = Arc<OwnedFd>> + '_ {
        self.inner.iter().cloned()
    }

    /// The inner map's template set with [`MapSpec::set_inner_map`].
    pub(crate) fn inner_map(&self) -> Option<&OwnedFd> {
        self.inner.as_deref()
    }

    /// Uses the existing map `map` instead of creating one (it must match
    /// in kind, sizes and flags): two objects, or an object and a pin,
    /// share it.
    pub fn reuse(&mut self, map: &impl AsFd) -> Result<()> {
        self.reuse = Some(self.duplicate(map, "reused map")?);
        Ok(())
    }

    /// Creates a map of maps with `map` as the template of its inner maps
    /// (for a map of maps whose C definition gives none).
    pub fn set_inner_map(&mut self, map: &impl AsFd) -> Result<()> {
        self.inner = Some(self.duplicate(map, "inner map")?);
        Ok(())
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The map's kind.
    pub fn map_type(&self) -> MapType {
        self.map_type
    }

    /// The size of a key in bytes, as the spec stands.
    pub fn key_size(&self) -> u32 {
        self.key_size
    }

    /// The size of a value in bytes, as the spec stands.
    pub fn value_size(&self) -> u32 {
        self.value_size
    }

    fn duplicate(&self, map: &impl AsFd, what: &'static str) -> Result<Arc<OwnedFd>> {
        let fd = map
            .as_fd()
            .try_clone_to_owned()
            .map_err(|source| self.config_error(what, source))?;
        Ok(Arc::new(fd))
    }

    fn configured(&self, what: &'static str, ret: i32) -> Result<()> {
        check(ret)
            .map(drop)
            .map_err(|source| self.config_error(what, source))
    }

    fn config_error(&self, what: &'static str, source: std::io::Error) -> Error {
        Error::Configure {
            what,
            kind: Kind::Map,
            name: self.name.clone(),
            source,
        }
    }
}

fn einval() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::EINVAL)
}
