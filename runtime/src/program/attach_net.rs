//! Attaching to a network interface with options: XDP in a chosen mode,
//! tcx and netkit in a chosen place among the hook's programs, and a legacy
//! tc filter on the interface's `clsact` qdisc.

use libbpf_sys as sys;

use super::attach::interface;
use super::Program;
use crate::error::{Error, Result};
use crate::link::{attach_tc, Link, NetkitOptions, TcHook, TcOptions, TcxOptions, XdpOptions};
use crate::AttachType;

impl Program {
    /// Attaches an `xdp` program to the interface `ifindex` in the mode
    /// `options` asks for. The link can be given another program
    /// atomically ([`Link::update_program`]).
    pub fn attach_xdp_with(&self, ifindex: u32, options: &XdpOptions) -> Result<Link> {
        let target = format!(
            "{} of interface {}",
            options.mode.describe(),
            interface(ifindex)
        );
        let opts = sys::bpf_link_create_opts {
            sz: size_of::<sys::bpf_link_create_opts>() as _,
            flags: options.mode.flags(),
            ..Default::default()
        };
        self.link_create(ifindex as i32, AttachType::XDP, &opts, target)
    }

    /// Attaches a `tcx` program to the interface `ifindex` where `options`
    /// places it among the hook's programs (Linux 6.6).
    ///
    /// ```no_run
    /// use ebpf_skeleton::link::{Placement, TcxOptions};
    /// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
    /// let _first = program.attach_tcx_with(1, &TcxOptions::new().placement(Placement::first()))?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn attach_tcx_with(&self, ifindex: u32, options: &TcxOptions<'_>) -> Result<Link> {
        let mut target = format!(
            "tcx of interface {}, {}",
            interface(ifindex),
            options.placement.describe()
        );
        let hook = self.hook_or(options.hook, &target)?;
        if hook == AttachType::TCX_EGRESS {
            target = target.replacen("tcx", "tcx egress", 1);
        } else if hook == AttachType::TCX_INGRESS {
            target = target.replacen("tcx", "tcx ingress", 1);
        }
        let (flags, relative_fd, expected_revision) = options.placement.to_kernel()?;
        let mut opts = sys::bpf_link_create_opts {
            sz: size_of::<sys::bpf_link_create_opts>() as _,
            flags,
            ..Default::default()
        };
        opts.__bindgen_anon_1.tcx = sys::bpf_link_create_opts__bindgen_ty_1__bindgen_ty_6 {
            relative_fd,
            relative_id: 0,
            expected_revision,
        };
        self.link_create(ifindex as i32, hook, &opts, target)
    }

    /// Attaches a `netkit/primary` or `netkit/peer` program to the netkit
    /// device `ifindex` (the primary device of the pair), on the side and
    /// in the place `options` says (Linux 6.7).
    pub fn attach_netkit(&self, ifindex: u32, options: &NetkitOptions<'_>) -> Result<Link> {
        let (hook, side) = if options.peer {
            (AttachType::NETKIT_PEER, "peer")
        } else {
            (AttachType::NETKIT_PRIMARY, "primary")
        };
        let target = format!(
            "netkit {side} of interface {}, {}",
            interface(ifindex),
            options.placement.describe()
        );
        let (flags, relative_fd, expected_revision) = options.placement.to_kernel()?;
        let mut opts = sys::bpf_link_create_opts {
            sz: size_of::<sys::bpf_link_create_opts>() as _,
            flags,
            ..Default::default()
        };
        opts.__bindgen_anon_1.netkit = sys::bpf_link_create_opts__bindgen_ty_1__bindgen_ty_7 {
            relative_fd,
            relative_id: 0,
            expected_revision,
        };
        self.link_create(ifindex as i32, hook, &opts, target)
    }

    /// Attaches a `tc` (`sched_cls`) program as a direct-action filter of
    /// the interface `ifindex`'s `clsact` qdisc (created when missing), on
    /// the side, at the priority and with the handle `options` gives. Works
    /// on every kernel, unlike tcx. The filter is no BPF link: the [`Link`]
    /// has no descriptor, and removes the filter when dropped; it can be
    /// given another program ([`Link::update_program`]), which the kernel
    /// swaps in atomically.
    pub fn attach_tc(&self, ifindex: u32, options: &TcOptions) -> Result<Link> {
        let side = match options.hook {
            TcHook::Ingress => "ingress",
            TcHook::Egress => "egress",
        };
        let mut target = format!("tc {side} of interface {}", interface(ifindex));
        let attachment = attach_tc(self.fd()?, ifindex as i32, options).map_err(|source| {
            let reason = match source.raw_os_error() {
                Some(libc::EEXIST) => "the hook has a filter at this priority and handle \
                                       (TcOptions::replace takes its place)"
                    .to_owned(),
                Some(libc::EINVAL) => format!(
                    "the kernel takes only sched_cls programs as tc filters, and this is a {} \
                     program",
                    self.program_type()
                ),
                _ => String::new(),
            };
            Error::Attach {
                program: self.name().to_owned(),
                target: target.clone(),
                source,
                reason,
            }
        })?;
        if let crate::link::Attachment::Tc {
            handle, priority, ..
        } = &attachment
        {
            target.push_str(&format!(", handle {handle:#x}, priority {priority}"));
        }
        Ok(Link::from_attachment(
            attachment,
            self.name().to_owned(),
            target,
        ))
    }
}
