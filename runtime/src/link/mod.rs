//! Links: a program attached to a hook, detached on drop; what a hook is
//! asked for ([`Kprobe`], [`Uprobe`], [`Usdt`], ...); and what the kernel
//! says about a link ([`LinkInfo`]).
//!
//! A [`Link`] is pinned ([`Link::pin`]) to outlive its process, opened
//! again from its pin ([`Link::from_pin`]) or its id ([`Link::from_id`]),
//! given another program while it stays attached ([`Link::update_program`]),
//! detached in the kernel even while pinned ([`Link::detach`]), and
//! described ([`Link::info`]).
//!
//! ```no_run
//! use ebpf_skeleton::link::{Link, LinkDetail};
//! # fn example(first: &ebpf_skeleton::Program, second: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
//! let mut link = first.attach_xdp(1)?;
//! if let LinkDetail::Xdp { ifindex } = link.info()?.detail {
//!     println!("link {} on interface {ifindex}", link.id()?);
//! }
//! link.update_program(second)?; // the next packet runs `second`
//! link.pin("/sys/fs/bpf/my_xdp")?; // stays attached after this process exits
//! # Ok(())
//! # }
//! # fn main() {}
//! ```

mod attachment;
mod cgroup;
mod info;
mod iter;
mod netfilter;
mod perf_event;
mod placement;
mod probe;
mod tc;
mod trace;
mod xdp;

pub use cgroup::{CgroupMode, CgroupOptions};
pub use info::{LinkDetail, LinkInfo, LinkType, PerfEventDetail};
pub use iter::{CgroupIterOrder, IterOptions, IterReader};
pub use netfilter::{NetfilterFamily, NetfilterHook, NetfilterOptions};
pub use perf_event::{HardwareEvent, PerfEventFd, PerfEventSpec, SoftwareEvent};
pub use placement::{
    query_cgroup, query_interface, Attached, AttachedProgram, NetkitOptions, Placement, TcxOptions,
};
pub(crate) use probe::MultiKind;
pub use probe::{Kprobe, KprobeMulti, Uprobe, UprobeMulti, Usdt};
pub use tc::{TcHook, TcOptions};
pub use trace::TraceOptions;
pub use xdp::{query_xdp, XdpMode, XdpOptions, XdpQuery};

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::handle::ObjectHandle;
use crate::libbpf::{link_info, prog_info};
use crate::os::errno::check;
use crate::os::fd::{expect_kind, kind_of, ObjectKind};
use crate::os::tracefs::KprobeEvent;
use crate::Program;
pub(crate) use attachment::{attach_tc, Attachment};

/// A program attached to its hook. Dropping the link detaches the program
/// (unless the link was pinned, which keeps it in the kernel).
#[must_use = "dropping a link detaches its program"]
pub struct Link {
    kind: Kind,
    program: String,
    target: String,
    /// Keeps the object of the attached program open as long as the link,
    /// so no link can refer to a freed program; its lock serialises the
    /// detach, which can change object state (a USDT link's spec ids).
    object: Option<Arc<ObjectHandle>>,
    /// A tracefs kprobe event the link's perf event is of, removed after
    /// the link (fields drop after `Drop::drop` detached it).
    _event: Option<KprobeEvent>,
}

/// What a link is made of.
enum Kind {
    /// A link libbpf made, with its BPF link descriptor if it has one of its
    /// own: USDT links (made of several uprobes) and perf-event links on
    /// kernels without BPF perf links have none.
    Libbpf {
        ptr: NonNull<sys::bpf_link>,
        fd: Option<RawFd>,
    },
    /// A BPF link held by its descriptor (made by this crate, or opened
    /// from a pin), and what it needs kept open, such as its perf event.
    Fd { fd: OwnedFd, _keep: Option<OwnedFd> },
    /// An attachment that is no BPF link (`BPF_PROG_ATTACH`, a legacy tc
    /// filter, a socket's filter or reuseport program), detached by hand on
    /// drop.
    Attachment {
        attachment: Attachment,
        /// Set once [`Link::detach`] detached it, so that drop does not.
        detached: AtomicBool,
    },
    /// A perf event that runs the program (`PERF_EVENT_IOC_SET_BPF`), on
    /// kernels without BPF perf links: closing the event detaches it.
    Event { _event: OwnedFd },
}

// SAFETY: a libbpf link is libbpf memory that only this value uses. Through
// `&self` it is only read (the cached fd, names); pinning takes `&mut self`;
// it is destroyed once, in `Drop`, under the object's lock.
unsafe impl Send for Link {}
// SAFETY: as above.
unsafe impl Sync for Link {}

impl Link {
    /// Wraps a link libbpf made for `program`. `own_fd` says whether the link
    /// can have a BPF link descriptor at all (USDT links cannot).
    pub(crate) fn from_libbpf(
        ptr: NonNull<sys::bpf_link>,
        program: String,
        target: String,
        own_fd: bool,
        object: Option<Arc<ObjectHandle>>,
    ) -> Self {
        // SAFETY: a live link.
        let raw = unsafe { sys::bpf_link__fd(ptr.as_ptr()) };
        let fd = (own_fd && raw >= 0).then_some(raw).filter(|&raw| {
            // SAFETY: libbpf keeps `raw` open as long as the link.
            let fd = unsafe { BorrowedFd::borrow_raw(raw) };
            // A struct_ops registration without a kernel link lends the
            // map's descriptor: only a link's counts.
            matches!(kind_of(fd), Some(ObjectKind::Link) | None)
        });
        Link {
            kind: Kind::Libbpf { ptr, fd },
            program,
            target,
            object,
            _event: None,
        }
    }

    /// Wraps a BPF link descriptor; `keep` is closed with it (a perf event
    /// the link needs, say).
    pub(crate) fn from_fd(
        fd: OwnedFd,
        keep: Option<OwnedFd>,
        program: String,
        target: String,
    ) -> Self {
        Link {
            kind: Kind::Fd { fd, _keep: keep },
            program,
            target,
            object: None,
            _event: None,
        }
    }

    /// Wraps a `BPF_PROG_ATTACH` attachment of the program behind `fd` to
    /// `target` as `attach_type`, detached on drop.
    pub(crate) fn from_prog_attach(
        fd: OwnedFd,
        target_fd: OwnedFd,
        attach_type: u32,
        program: String,
        target: String,
    ) -> Self {
        Link::from_attachment(
            Attachment::ProgAttach {
                program: fd,
                target: target_fd,
                attach_type,
                flags: 0,
            },
            program,
            target,
        )
    }

    /// Wraps an attachment that is no BPF link, detached on drop.
    pub(crate) fn from_attachment(attachment: Attachment, program: String, target: String) -> Self {
        Link {
            kind: Kind::Attachment {
                attachment,
                detached: AtomicBool::new(false),
            },
            program,
            target,
            object: None,
            _event: None,
        }
    }

    /// Wraps a perf event made to run a program with
    /// `PERF_EVENT_IOC_SET_BPF`; dropping the link closes it.
    pub(crate) fn from_event(event: OwnedFd, program: String, target: String) -> Self {
        Link {
            kind: Kind::Event { _event: event },
            program,
            target,
            object: None,
            _event: None,
        }
    }

    /// Wraps a socket filter attached to `socket` (a descriptor of the
    /// link's own), detached on drop.
    pub(crate) fn from_socket(socket: OwnedFd, program: String, target: String) -> Self {
        Link::from_attachment(
            Attachment::Socket {
                socket,
                reuseport: false,
            },
            program,
            target,
        )
    }

    /// The link, made for a perf event of the tracefs event `event`, which
    /// goes with it.
    pub(crate) fn with_event(mut self, event: KprobeEvent) -> Self {
        self._event = Some(event);
        self
    }

    /// Opens the link pinned at `path` in bpffs (by this process or another).
    /// Dropping the handle does not detach it: the pin still holds it, until
    /// [`Link::unpin`] or removing the file. A pin of something other than a
    /// link is refused.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Link> {
        let path = path.as_ref();
        let what = || format!("opening the link pinned at {}", path.display());
        let fd = crate::libbpf::open_pin(path).map_err(|source| Error::sys(what(), source))?;
        expect_kind(fd.as_fd(), ObjectKind::Link).map_err(|source| Error::sys(what(), source))?;
        let program = program_of(fd.as_fd()).unwrap_or_default();
        Ok(Link::from_fd(
            fd,
            None,
            program,
            format!("the link pinned at {}", path.display()),
        ))
    }

    /// Opens the link with this kernel id (see [`crate::loaded`]). Dropping
    /// the handle does not detach the link: whoever made it still holds it.
    pub fn from_id(id: u32) -> Result<Link> {
        let fd = crate::loaded::open(crate::loaded::Space::Link, id)?;
        Ok(Link::from_id_fd(id, fd))
    }

    /// Wraps a descriptor opened from link id `id`.
    pub(crate) fn from_id_fd(id: u32, fd: OwnedFd) -> Link {
        let program = program_of(fd.as_fd()).unwrap_or_default();
        Link::from_fd(fd, None, program, format!("link id {id}"))
    }

    /// Removes the pin at `path`, after checking that it pins this link.
    /// The link stays attached while a handle or another pin holds it.
    pub fn unpin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = || {
            format!(
                "unpinning the link of program `{}` at {}",
                self.program,
                path.display()
            )
        };
        let pinned = crate::libbpf::open_pin(path).map_err(|source| Error::sys(what(), source))?;
        expect_kind(pinned.as_fd(), ObjectKind::Link)
            .map_err(|source| Error::sys(what(), source))?;
        let mine = self
            .fd()
            .map(link_id)
            .transpose()
            .map_err(|source| Error::sys(what(), source))?;
        let theirs = link_id(pinned.as_fd()).map_err(|source| Error::sys(what(), source))?;
        if mine != Some(theirs) {
            return Err(Error::sys(
                what(),
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "it pins another link"),
            ));
        }
        std::fs::remove_file(path).map_err(|source| Error::sys(what(), source))
    }

    /// The name of the attached program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// What the program is attached to, e.g. "tracepoint `sched:sched_switch`".
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The link's BPF link descriptor, valid while `self` lives; `None` for
    /// links that have none of their own (a USDT link is several uprobes; a
    /// perf-event link on a kernel without BPF perf links is the event; a
    /// program attached with `BPF_PROG_ATTACH` has no link, nor does a
    /// socket filter).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.kind {
            // SAFETY: libbpf keeps the fd open until `bpf_link__destroy` in Drop.
            Kind::Libbpf { fd, .. } => fd.map(|fd| unsafe { BorrowedFd::borrow_raw(fd) }),
            Kind::Fd { fd, .. } => Some(fd.as_fd()),
            Kind::Attachment { .. } | Kind::Event { .. } => None,
        }
    }

    /// Pins the link at `path` in bpffs, so that it stays attached after
    /// this process exits. Links without a descriptor of their own cannot
    /// be pinned.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = format!(
            "pinning the link of program `{}` ({}) at {}",
            self.program,
            self.target,
            path.display()
        );
        let fd = self.own_fd(&what)?.as_raw_fd();
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| Error::sys(what.clone(), std::io::Error::other(e)))?;
        // SAFETY: a live descriptor and a valid C string. The pin is the
        // kernel's; libbpf's own record of it (for `bpf_link__unpin`) is not
        // needed.
        let ret = unsafe { sys::bpf_obj_pin(fd, c_path.as_ptr()) };
        check(ret).map_err(|source| Error::sys(what, source))?;
        Ok(())
    }

    /// What the kernel says about the link: its id, type, program and
    /// target. A link without a descriptor of its own has no info; that is
    /// an error saying so.
    pub fn info(&self) -> Result<LinkInfo> {
        let what = format!(
            "reading info of the link of program `{}` ({})",
            self.program, self.target
        );
        let fd = self.own_fd(&what)?;
        info::info_of(fd).map_err(|source| Error::sys(what, source))
    }

    /// The kernel's id for the link.
    pub fn id(&self) -> Result<u32> {
        Ok(self.info()?.id)
    }

    /// Makes the link run `program` instead of its program, atomically:
    /// every event from the next one on runs `program`, none is missed.
    /// The kernel takes this for the links of cgroups, XDP, tcx, netkit,
    /// network namespaces, iterators and socket maps; others (tracepoints,
    /// probes, trampolines) refuse with `EINVAL`.
    pub fn update_program(&mut self, program: &Program) -> Result<()> {
        self.update(program, None)
    }

    /// Like [`Link::update_program`], only if the link still runs `old`
    /// (`BPF_F_REPLACE`); otherwise the kernel refuses with `EPERM` and the
    /// link keeps its program.
    pub fn replace_program(&mut self, program: &Program, old: &Program) -> Result<()> {
        self.update(program, Some(old))
    }

    fn update(&mut self, program: &Program, old: Option<&Program>) -> Result<()> {
        let what = format!(
            "updating the link of program `{}` ({}) to program `{}`",
            self.program,
            self.target,
            program.name()
        );
        if let Kind::Attachment { attachment, .. } = &mut self.kind {
            if old.is_some() {
                return Err(Error::sys(
                    what,
                    std::io::Error::new(
                        std::io::ErrorKind::Unsupported,
                        "an attachment that is no BPF link takes no expected program",
                    ),
                ));
            }
            let new = program
                .fd()?
                .try_clone_to_owned()
                .map_err(|e| Error::sys(what.clone(), e))?;
            attachment
                .replace(new)
                .map_err(|source| Error::sys(what, source))?;
            self.program = program.name().to_owned();
            return Ok(());
        }
        let link = self.own_fd(&what)?.as_raw_fd();
        let new = program.fd()?.as_raw_fd();
        let opts = sys::bpf_link_update_opts {
            sz: size_of::<sys::bpf_link_update_opts>() as _,
            flags: if old.is_some() { sys::BPF_F_REPLACE } else { 0 },
            old_prog_fd: match old {
                Some(old) => old.fd()?.as_raw_fd() as u32,
                None => 0,
            },
            ..Default::default()
        };
        // SAFETY: a plain system call on open descriptors; the options live
        // across it.
        check(unsafe { sys::bpf_link_update(link, new, &opts) })
            .map_err(|source| Error::sys(what, source))?;
        self.program = program.name().to_owned();
        Ok(())
    }

    /// Detaches the program from its hook now, even while a pin or another
    /// process holds the link (`BPF_LINK_DETACH`): the link stays open but
    /// defunct, and its info shows no target. Kernels refuse this with
    /// `EOPNOTSUPP` for links of tracepoints, probes and trampolines, which
    /// detach when their last holder drops them. A program attached without
    /// a link (`BPF_PROG_ATTACH`) is detached from its target; a link
    /// without a descriptor of its own (USDT) detaches only by dropping it.
    pub fn detach(&self) -> Result<()> {
        let what = format!(
            "detaching the link of program `{}` ({})",
            self.program, self.target
        );
        if let Kind::Attachment {
            attachment,
            detached,
        } = &self.kind
        {
            if detached.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            return attachment
                .detach()
                .map_err(|source| Error::sys(what, source));
        }
        let fd = self.own_fd(&what)?.as_raw_fd();
        // SAFETY: a plain system call on an open descriptor.
        check(unsafe { sys::bpf_link_detach(fd) })
            .map(drop)
            .map_err(|source| Error::sys(what, source))
    }

    /// The link's own descriptor, or an error for `what` saying that this
    /// link has none and why.
    pub(crate) fn own_fd(&self, what: &str) -> Result<BorrowedFd<'_>> {
        self.fd().ok_or_else(|| {
            let why = match &self.kind {
                Kind::Attachment { attachment, .. } => attachment.why_no_fd(),
                _ => {
                    "this link has no BPF link descriptor of its own (a USDT link is a set of \
                     uprobes; a perf event link on a kernel without BPF perf links is the event)"
                }
            };
            Error::sys(
                what,
                std::io::Error::new(std::io::ErrorKind::Unsupported, why),
            )
        })
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        match &self.kind {
            Kind::Libbpf { ptr, .. } => {
                let _guard = self.object.as_deref().map(ObjectHandle::lock);
                // SAFETY: the link came from libbpf and is destroyed only
                // here, with its object's lock held.
                unsafe { sys::bpf_link__destroy(ptr.as_ptr()) };
            }
            Kind::Attachment {
                attachment,
                detached,
            } => {
                if detached.load(Ordering::Acquire) {
                    return;
                }
                if let Err(e) = attachment.detach() {
                    log::warn!(
                        "detaching program `{}` from {}: {e}",
                        self.program,
                        self.target
                    );
                }
            }
            // A descriptor link, or an event, closes with its fields.
            Kind::Fd { .. } | Kind::Event { .. } => {}
        }
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("program", &self.program)
            .field("target", &self.target)
            .field("fd", &self.fd().map(|fd| fd.as_raw_fd()))
            .finish()
    }
}

fn link_id(fd: BorrowedFd<'_>) -> std::io::Result<u32> {
    Ok(link_info(fd)?.id)
}

/// The name of the program a link attaches, when this process may open it.
fn program_of(fd: BorrowedFd<'_>) -> Option<String> {
    let prog_id = link_info(fd).ok()?.prog_id;
    let prog = crate::loaded::open(crate::loaded::Space::Program, prog_id).ok()?;
    Some(crate::os::c_name(&prog_info(prog.as_fd()).ok()?.name))
}

/// The links of everything `attach()` attached, in order. Dropping them
/// detaches every program at once, so a `Links` left unused is a warning.
#[must_use = "dropping the links detaches the programs"]
#[derive(Debug, Default)]
pub struct Links(Vec<Link>);

impl Links {
    /// The links, to keep or to drop one by one.
    pub fn into_vec(self) -> Vec<Link> {
        self.0
    }

    /// Adds a link.
    pub fn push(&mut self, link: Link) {
        self.0.push(link);
    }
}

impl std::ops::Deref for Links {
    type Target = [Link];

    fn deref(&self) -> &[Link] {
        &self.0
    }
}

impl FromIterator<Link> for Links {
    fn from_iter<I: IntoIterator<Item = Link>>(links: I) -> Self {
        Links(links.into_iter().collect())
    }
}

impl IntoIterator for Links {
    type Item = Link;
    type IntoIter = std::vec::IntoIter<Link>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Links> for Vec<Link> {
    fn from(links: Links) -> Vec<Link> {
        links.0
    }
}
