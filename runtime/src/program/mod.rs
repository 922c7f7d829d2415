//! eBPF programs: settings before load, handles after.

mod attach;
mod attach_cgroup;
mod attach_fd;
mod attach_kernel;
mod attach_multi;
mod attach_net;
mod attach_sockmap;
mod attach_trace;
mod builder;
pub(crate) mod func_info;
mod info;
mod kind;
mod link_create;
mod pin;
mod read_back;
pub(crate) mod refusal;
mod spec;
mod stream;
mod test_run;

pub use builder::ProgramBuilder;
pub use info::{enable_stats, ProgramInfo, StatsGuard};
pub(crate) use kind::kernel_enum;
pub use kind::{AttachType, ProgramType};
pub use read_back::tag_hash;
pub(crate) use spec::{log_text, DEFAULT_LOG_SIZE};
pub use spec::{ProgramDevice, ProgramSpec};
pub use stream::Stream;
pub use test_run::{TestRun, TestRunResult};

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::handle::ObjectHandle;
use crate::libbpf::{prog_info, program_name, program_section};
use crate::os::fd::{expect_kind, ObjectKind};

/// A program in the kernel.
///
/// Most programs come from a loaded object; the handle then keeps the
/// object alive: the program stays in the kernel until every handle and
/// every [`Link`](crate::Link) made from it are dropped. A program may also
/// be held by its descriptor alone ([`Program::from_fd`]), or be loaded
/// from instructions, without an object ([`ProgramBuilder`]). A program whose
/// autoload was off is still a `Program`, but has no file descriptor; that
/// is why the descriptor comes from [`Program::fd`] rather than `AsFd`.
#[derive(Clone)]
pub struct Program {
    name: String,
    section: String,
    source: Source,
}

/// Where a program's descriptor lives.
#[derive(Clone)]
pub(crate) enum Source {
    /// A program of an object libbpf loaded, which owns the descriptor.
    Object {
        object: Arc<ObjectHandle>,
        ptr: NonNull<sys::bpf_program>,
    },
    /// A program held by its own descriptor: opened, or loaded from
    /// instructions (with its expected attach type, its instructions, and
    /// its verifier log when one was asked for).
    Fd {
        fd: Arc<OwnedFd>,
        program_type: ProgramType,
        attach_type: Option<AttachType>,
        log: Option<Arc<str>>,
        instructions: Option<Arc<crate::asm::Instructions>>,
    },
}

// SAFETY: through `&Program` libbpf's program is only read (its name,
// section, type and descriptor, none of which libbpf changes after load) or
// attached, and every attach holds the object's lock (see `ObjectHandle`).
// `object` keeps the program alive. A program held by descriptor is a
// descriptor.
unsafe impl Send for Program {}
// SAFETY: as above.
unsafe impl Sync for Program {}

impl Program {
    pub(crate) fn new(object: Arc<ObjectHandle>, ptr: NonNull<sys::bpf_program>) -> Self {
        Program {
            name: program_name(ptr.as_ptr()),
            section: program_section(ptr.as_ptr()),
            source: Source::Object { object, ptr },
        }
    }

    /// Takes ownership of a program's file descriptor (from a pin, from an
    /// id, or loaded by other means). Its name and type are the kernel's; it
    /// has no section. A descriptor of something other than a program is
    /// refused.
    pub fn from_fd(fd: OwnedFd) -> Result<Self> {
        let what = || "opening a program from its descriptor".to_owned();
        expect_kind(fd.as_fd(), ObjectKind::Program).map_err(|e| Error::sys(what(), e))?;
        let info = prog_info(fd.as_fd()).map_err(|e| Error::sys(what(), e))?;
        Ok(Program {
            name: crate::os::c_name(&info.name),
            section: String::new(),
            source: Source::Fd {
                fd: Arc::new(fd),
                program_type: ProgramType(info.type_),
                attach_type: None,
                log: None,
                instructions: None,
            },
        })
    }

    /// Opens the program with this kernel id (see [`crate::loaded`]).
    pub fn from_id(id: u32) -> Result<Self> {
        Program::from_fd(crate::loaded::open(crate::loaded::Space::Program, id)?)
    }

    /// The program's name (its C function's name; for a program held by
    /// descriptor, the kernel's name for it, at most 15 characters).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ELF section the program is in (empty for a program held by
    /// descriptor).
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The name of the object the program belongs to (empty for a program
    /// held by descriptor).
    pub fn object_name(&self) -> &str {
        match &self.source {
            Source::Object { object, .. } => object.name(),
            Source::Fd { .. } => "",
        }
    }

    /// The kernel's program type.
    pub fn program_type(&self) -> ProgramType {
        match &self.source {
            Source::Object { ptr, .. } => {
                // SAFETY: the program lives as long as `object`.
                ProgramType(unsafe { sys::bpf_program__type(ptr.as_ptr()) })
            }
            Source::Fd { program_type, .. } => *program_type,
        }
    }

    /// The hook the program was loaded for (`expected_attach_type`):
    /// libbpf's for a program of an object, the one given to
    /// [`ProgramBuilder::expected_attach_type`]; `None` when none was given
    /// or the program was opened by descriptor (the kernel does not say).
    pub fn expected_attach_type(&self) -> Option<AttachType> {
        match &self.source {
            Source::Object { ptr, .. } => {
                // SAFETY: the program lives as long as `object`.
                let raw = unsafe { sys::bpf_program__expected_attach_type(ptr.as_ptr()) };
                Some(AttachType(raw))
            }
            Source::Fd { attach_type, .. } => *attach_type,
        }
    }

    /// Whether the program is in the kernel (false when autoload was off).
    pub fn is_loaded(&self) -> bool {
        self.raw_fd() >= 0
    }

    /// The program's file descriptor, valid while `self` lives.
    pub fn fd(&self) -> Result<BorrowedFd<'_>> {
        let fd = self.raw_fd();
        if fd < 0 {
            return Err(Error::NotLoaded {
                program: self.name.clone(),
            });
        }
        // SAFETY: libbpf (or `Source::Fd`) keeps the fd open as long as the
        // object or the `Arc`, which `self` holds for the borrow's lifetime.
        Ok(unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// The verifier's log of the program's load, when its spec (or
    /// [`ProgramBuilder::log_level`]) asked for one (a log level above 0);
    /// the statistics line ends it.
    pub fn verifier_log(&self) -> Option<&str> {
        match &self.source {
            Source::Object { object, .. } => object.verifier_log(&self.name),
            Source::Fd { log, .. } => log.as_deref(),
        }
    }

    /// The libbpf program and its object, for attaching through libbpf.
    pub(crate) fn libbpf(&self) -> Option<(&Arc<ObjectHandle>, NonNull<sys::bpf_program>)> {
        match &self.source {
            Source::Object { object, ptr } => Some((object, *ptr)),
            Source::Fd { .. } => None,
        }
    }

    /// The kernel's id for the program (as `bpftool prog` shows it).
    pub fn id(&self) -> Result<u32> {
        let info = prog_info(self.fd()?).map_err(|source| {
            Error::sys(format!("reading info of program `{}`", self.name), source)
        })?;
        Ok(info.id)
    }

    /// Whether the program was opened by pin, id or descriptor (rather
    /// than loaded by this process), so that the kernel alone knows its
    /// expected attach type.
    pub(crate) fn opened(&self) -> bool {
        matches!(
            self.source,
            Source::Fd {
                instructions: None,
                ..
            }
        )
    }

    fn raw_fd(&self) -> i32 {
        match &self.source {
            // SAFETY: the program lives as long as `object`.
            Source::Object { ptr, .. } => unsafe { sys::bpf_program__fd(ptr.as_ptr()) },
            Source::Fd { fd, .. } => fd.as_raw_fd(),
        }
    }
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("name", &self.name)
            .field("section", &self.section)
            .field("loaded", &self.is_loaded())
            .finish()
    }
}
