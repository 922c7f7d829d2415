//! struct_ops maps: a kernel interface (TCP congestion control, sched_ext,
//! HID-BPF, ...) implemented by a set of BPF programs, registered with the
//! kernel as a whole. Its data members are set before load
//! ([`OpenObject::struct_ops_data`](crate::OpenObject::struct_ops_data));
//! registering it gives a [`Link`]: dropping the link unregisters it.

use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::handle::ObjectHandle;
use crate::link::Link;
use crate::map::Map;
use crate::os::errno::last_error;
use crate::print;

/// A struct_ops map of a loaded object (`SEC(".struct_ops")` or
/// `SEC(".struct_ops.link")`).
///
/// ```no_run
/// # fn example(objs: &ebpf_skeleton::Object) -> ebpf_skeleton::Result<()> {
/// let cc = objs.struct_ops("my_cc")?;
/// let _registered = cc.register()?; // `my_cc` is a congestion control from now on
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
pub struct StructOps {
    /// The map in the kernel; `None` when it was not created (autocreate
    /// off).
    map: Option<Map>,
    name: String,
    ptr: NonNull<sys::bpf_map>,
    object: Arc<ObjectHandle>,
}

// SAFETY: the libbpf map is only read through `&self` (its descriptor and
// name) and registered with the object's lock held; `object` keeps it alive.
unsafe impl Send for StructOps {}
// SAFETY: as above.
unsafe impl Sync for StructOps {}

impl StructOps {
    pub(crate) fn new(object: Arc<ObjectHandle>, ptr: NonNull<sys::bpf_map>) -> Result<Self> {
        // SAFETY: a map of the live, loaded object.
        let created = unsafe { sys::bpf_map__autocreate(ptr.as_ptr()) };
        Ok(StructOps {
            map: created.then(|| Map::from_libbpf(ptr)).transpose()?,
            name: crate::libbpf::map_name(ptr.as_ptr()),
            ptr,
            object,
        })
    }

    /// Registers the implementation with the kernel. For a
    /// `.struct_ops.link` map the link is a kernel link (it can be pinned);
    /// for a `.struct_ops` map, dropping it deletes the registration all
    /// the same. A map that was not created cannot be registered
    /// ([`Error::NotCreated`]).
    pub fn register(&self) -> Result<Link> {
        if self.map.is_none() {
            return Err(Error::NotCreated {
                map: self.name.clone(),
            });
        }
        let ((link, errno), warnings) = {
            let _guard = self.object.lock();
            print::capture(|| {
                // SAFETY: a struct_ops map of the live, loaded object, with
                // the object's lock held.
                let link = unsafe { sys::bpf_map__attach_struct_ops(self.ptr.as_ptr()) };
                (link, link.is_null().then(last_error))
            })
        };
        let target = format!("struct_ops `{}`", self.name);
        match NonNull::new(link) {
            Some(link) => Ok(Link::from_libbpf(
                link,
                self.name.clone(),
                target,
                true,
                Some(self.object.clone()),
            )),
            None => Err(Error::Attach {
                program: self.name.clone(),
                target,
                source: errno.unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL)),
                reason: warnings
                    .iter()
                    .map(|w| w.strip_prefix("libbpf: ").unwrap_or(w))
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    }

    /// Whether `objs.attach()` registers it (libbpf's autoattach, on by
    /// default).
    pub fn autoattach(&self) -> bool {
        // SAFETY: a map of the live object.
        unsafe { sys::bpf_map__autoattach(self.ptr.as_ptr()) }
    }

    /// The map's name (the C variable's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the map was created with its object (libbpf's autocreate:
    /// off for a `?.struct_ops` section, or when turned off before load).
    pub fn is_created(&self) -> bool {
        self.map.is_some()
    }

    /// The struct_ops map itself, when it was created.
    pub fn map(&self) -> Option<&Map> {
        self.map.as_ref()
    }
}

impl std::fmt::Debug for StructOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructOps")
            .field("name", &self.name)
            .field("created", &self.is_created())
            .finish()
    }
}
