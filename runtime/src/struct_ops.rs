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
    map: Map,
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
        Ok(StructOps {
            map: Map::from_libbpf(ptr)?,
            ptr,
            object,
        })
    }

    /// Registers the implementation with the kernel. For a
    /// `.struct_ops.link` map the link is a kernel link (it can be pinned);
    /// for a `.struct_ops` map, dropping it deletes the registration all
    /// the same.
    pub fn register(&self) -> Result<Link> {
        let ((link, errno), warnings) = {
            let _guard = self.object.lock();
            print::capture(|| {
                // SAFETY: a struct_ops map of the live, loaded object, with
                // the object's lock held.
                let link = unsafe { sys::bpf_map__attach_struct_ops(self.ptr.as_ptr()) };
                (link, link.is_null().then(last_error))
            })
        };
        let target = format!("struct_ops `{}`", self.map.name());
        match NonNull::new(link) {
            Some(link) => Ok(Link::from_libbpf(
                link,
                self.map.name().to_owned(),
                target,
                true,
                Some(self.object.clone()),
            )),
            None => Err(Error::Attach {
                program: self.map.name().to_owned(),
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
        self.map.name()
    }

    /// The struct_ops map itself.
    pub fn map(&self) -> &Map {
        &self.map
    }
}

impl std::fmt::Debug for StructOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructOps")
            .field("name", &self.map.name())
            .finish()
    }
}
