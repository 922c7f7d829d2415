//! Attaching to a cgroup with options: as a link or with `BPF_PROG_ATTACH`
//! in one of its modes, to any cgroup hook.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use libbpf_sys as sys;

use super::Program;
use crate::error::{Error, Result};
use crate::link::{Attachment, CgroupMode, CgroupOptions, Link};
use crate::os::errno::check;

impl Program {
    /// Attaches a cgroup program (`cgroup_skb/egress`, `cgroup/connect4`,
    /// `sockops`, `cgroup/sysctl`, `cgroup/dev`, ...) to the cgroup v2
    /// directory opened as `cgroup`, as `options` says: as a link (the
    /// default), or with `BPF_PROG_ATTACH` exclusively, overridably or as
    /// one of several. An attachment without a link is detached when the
    /// [`Link`] drops; it has no descriptor, but can be given another
    /// program ([`Link::update_program`]).
    pub fn attach_cgroup_with(&self, cgroup: impl AsFd, options: &CgroupOptions) -> Result<Link> {
        let cgroup = cgroup.as_fd();
        let mode = match options.mode {
            CgroupMode::BpfLink => "a link",
            CgroupMode::Exclusive => "exclusive",
            CgroupMode::Override => "overridable",
            CgroupMode::Multi => "multi",
        };
        let mut target = format!("a cgroup ({mode})");
        let hook = self.hook_or(options.hook, &target)?;
        target = format!("the {hook} hook of a cgroup ({mode})");
        let fail = |source: io::Error, reason: &str| Error::Attach {
            program: self.name().to_owned(),
            target: target.clone(),
            source,
            reason: reason.to_owned(),
        };
        let flags = match options.mode {
            CgroupMode::BpfLink => {
                let opts = sys::bpf_link_create_opts {
                    sz: size_of::<sys::bpf_link_create_opts>() as _,
                    ..Default::default()
                };
                return self.link_create(cgroup.as_raw_fd(), hook, &opts, target.clone());
            }
            CgroupMode::Exclusive => 0,
            CgroupMode::Override => sys::BPF_F_ALLOW_OVERRIDE,
            CgroupMode::Multi => sys::BPF_F_ALLOW_MULTI,
        };
        let opts = sys::bpf_prog_attach_opts {
            sz: size_of::<sys::bpf_prog_attach_opts>() as _,
            flags,
            ..Default::default()
        };
        // Descriptors of the attachment's own, taken first so that no
        // attachment is left behind when taking them fails.
        let program = self.fd()?;
        let own_program = program
            .try_clone_to_owned()
            .map_err(|e| fail(e, "duplicating the program's descriptor"))?;
        let own_cgroup = cgroup
            .try_clone_to_owned()
            .map_err(|e| fail(e, "duplicating the cgroup's descriptor"))?;
        // SAFETY: a plain system call on open descriptors; the options
        // outlive it.
        let ret = unsafe {
            sys::bpf_prog_attach_opts(program.as_raw_fd(), cgroup.as_raw_fd(), hook.0, &opts)
        };
        check(ret).map_err(|e| {
            let reason = match e.raw_os_error() {
                Some(libc::EPERM) => {
                    "an ancestor's program of this hook allows no other (exclusive), or the \
                     modes of the cgroup's programs differ"
                }
                Some(libc::EEXIST) => "the program is attached to this hook already",
                Some(libc::EINVAL) => "the program's type does not take this hook",
                _ => "",
            };
            fail(e, reason)
        })?;
        let attachment = Attachment::ProgAttach {
            program: own_program,
            target: own_cgroup,
            attach_type: hook.0,
            flags,
        };
        Ok(Link::from_attachment(
            attachment,
            self.name().to_owned(),
            target,
        ))
    }
}
