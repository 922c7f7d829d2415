//! Attaching to kernel objects other than interfaces and cgroups: BPF
//! iterators, network namespaces (sk_lookup, flow dissector), netfilter
//! hooks and lirc devices.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use libbpf_sys as sys;

use super::Program;
use crate::error::{Error, Result};
use crate::link::{Attachment, IterOptions, Link, NetfilterOptions};
use crate::os::errno::check;
use crate::AttachType;

impl Program {
    /// Attaches an `iter/...` program (`iter/task`, `iter/bpf_map_elem`,
    /// `iter/cgroup`, ...) over what `options` says; read its output
    /// through the link ([`Link::iter`], [`Link::read_iter`]).
    pub fn attach_iter(&self, options: &IterOptions<'_>) -> Result<Link> {
        let target = format!(
            "the iterator of its section `{}`{}",
            self.section(),
            options.describe()
        );
        let mut info = options.link_info();
        let opts = sys::bpf_iter_attach_opts {
            sz: size_of::<sys::bpf_iter_attach_opts>() as _,
            link_info: info.as_mut().map_or(std::ptr::null_mut(), |i| i as *mut _),
            link_info_len: if info.is_some() {
                size_of::<sys::bpf_iter_link_info>() as u32
            } else {
                0
            },
            ..Default::default()
        };
        // SAFETY: as in `attach`; the options and the parameter they point
        // to live across the call, as do the descriptors in it (borrowed by
        // `options`).
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_iter(p, &opts)
        })
    }

    /// Attaches an `sk_lookup` or `flow_dissector` program to the network
    /// namespace opened as `netns` (`/proc/self/ns/net`, or
    /// `/proc/PID/ns/net`, or a file under /run/netns), as a link.
    pub fn attach_netns(&self, netns: impl AsFd) -> Result<Link> {
        let netns = netns.as_fd();
        let target = format!("a network namespace (descriptor {})", netns.as_raw_fd());
        let hook = self.hook_or(None, &target)?;
        let opts = sys::bpf_link_create_opts {
            sz: size_of::<sys::bpf_link_create_opts>() as _,
            ..Default::default()
        };
        self.link_create(netns.as_raw_fd(), hook, &opts, target)
    }

    /// Attaches an `sk_lookup` or `flow_dissector` program to the network
    /// namespace this thread is in.
    pub fn attach_own_netns(&self) -> Result<Link> {
        let netns = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(|source| Error::sys("opening this thread's network namespace", source))?;
        self.attach_netns(&netns)
    }

    /// Attaches a `netfilter` program to the hook `options` names, in the
    /// network namespace of this thread (Linux 6.4).
    pub fn attach_netfilter(&self, options: &NetfilterOptions) -> Result<Link> {
        let target = options.describe();
        let (pf, hooknum, priority, flags) = options.kernel();
        let mut opts = sys::bpf_link_create_opts {
            sz: size_of::<sys::bpf_link_create_opts>() as _,
            ..Default::default()
        };
        opts.__bindgen_anon_1.netfilter = sys::bpf_link_create_opts__bindgen_ty_1__bindgen_ty_5 {
            pf,
            hooknum,
            priority,
            flags,
        };
        self.link_create(0, AttachType::NETFILTER, &opts, target)
    }

    /// Attaches a `lirc_mode2` program to the lirc device opened as
    /// `device` (`/dev/lirc0`): it decodes the device's raw infrared
    /// pulses. Kernels built without `CONFIG_BPF_LIRC_MODE2` do not load
    /// such programs at all. The attachment is no BPF link; it is detached
    /// when the [`Link`] drops.
    pub fn attach_lirc_mode2(&self, device: impl AsFd) -> Result<Link> {
        let device = device.as_fd();
        let target = format!("the lirc device of descriptor {}", device.as_raw_fd());
        let fail = |source: io::Error, reason: &str| Error::Attach {
            program: self.name().to_owned(),
            target: target.clone(),
            source,
            reason: reason.to_owned(),
        };
        let program = self.fd()?;
        let own_program = program
            .try_clone_to_owned()
            .map_err(|e| fail(e, "duplicating the program's descriptor"))?;
        let own_device = device
            .try_clone_to_owned()
            .map_err(|e| fail(e, "duplicating the device's descriptor"))?;
        let hook = AttachType::LIRC_MODE2;
        // SAFETY: a plain system call on open descriptors.
        let ret =
            unsafe { sys::bpf_prog_attach(program.as_raw_fd(), device.as_raw_fd(), hook.0, 0) };
        check(ret).map_err(|e| {
            let reason = match e.raw_os_error() {
                Some(libc::EINVAL) => "the descriptor is not a lirc device (/dev/lircN)",
                _ => "",
            };
            fail(e, reason)
        })?;
        Ok(Link::from_attachment(
            Attachment::ProgAttach {
                program: own_program,
                target: own_device,
                attach_type: hook.0,
                flags: 0,
            },
            self.name().to_owned(),
            target,
        ))
    }
}
