//! `BPF_LINK_CREATE` on the program's descriptor, for the hooks whose link
//! needs nothing from libbpf (interfaces, cgroups, network namespaces,
//! netfilter): these attach the same for programs of an object and
//! programs held by descriptor.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use super::Program;
use crate::error::{Error, Result};
use crate::link::Link;
use crate::os::errno::check;
use crate::AttachType;

impl Program {
    /// Creates a BPF link of this program to `target_fd` (an interface
    /// index, a cgroup or namespace descriptor, ...) at `hook`; `target`
    /// names it in the link and in errors.
    pub(crate) fn link_create(
        &self,
        target_fd: i32,
        hook: AttachType,
        opts: &sys::bpf_link_create_opts,
        target: String,
    ) -> Result<Link> {
        let program = self.fd()?.as_raw_fd();
        // SAFETY: a plain system call; the options (and what they point to)
        // live across it.
        let fd = check(unsafe { sys::bpf_link_create(program, target_fd, hook.0, opts) })
            .map_err(|source| self.link_error(&target, hook, source))?;
        // SAFETY: the kernel just returned this descriptor to us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Link::from_fd(fd, None, self.name().to_owned(), target))
    }

    /// The hook of the program's section (its expected attach type), or
    /// `given` if given; an error naming `target` when there is neither.
    pub(crate) fn hook_or(&self, given: Option<AttachType>, target: &str) -> Result<AttachType> {
        if let Some(hook) = given {
            return Ok(hook);
        }
        self.expected_attach_type().ok_or_else(|| Error::Attach {
            program: self.name().to_owned(),
            target: target.to_owned(),
            source: io::Error::from_raw_os_error(libc::EINVAL),
            reason: if self.opened() {
                "the program was opened by pin, id or descriptor, and the kernel does not say \
                 which hook it was loaded for: give the hook in the options"
            } else {
                "the program names no hook (no section, no expected attach type): give the \
                 hook in the options"
            }
            .into(),
        })
    }

    fn link_error(&self, target: &str, hook: AttachType, source: io::Error) -> Error {
        let reason = match source.raw_os_error() {
            Some(libc::EINVAL) => format!(
                "the kernel refused the hook {hook} for this {} program",
                self.program_type()
            ),
            Some(libc::EEXIST) | Some(libc::EBUSY) => {
                "the hook already has a program that does not share it".to_owned()
            }
            Some(libc::ESTALE) => "the hook is no longer at the expected revision".to_owned(),
            Some(libc::ENOENT) => "the program or link to place it next to is not there".to_owned(),
            _ => String::new(),
        };
        // What the kernel may lack (tcx before 6.6 takes neither tcx hook
        // from any program, kprobes, ...), as for libbpf's attaches.
        let reason = match super::attach::attach_hint(self.section(), target, &source) {
            Some(hint) if reason.is_empty() => hint,
            Some(hint) => format!("{reason}; {hint}"),
            None => reason,
        };
        Error::Attach {
            program: self.name().to_owned(),
            target: target.to_owned(),
            source,
            reason,
        }
    }
}
