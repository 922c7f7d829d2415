//! Attachments that are no BPF link: a program attached with
//! `BPF_PROG_ATTACH` (cgroups, socket maps on kernels before 6.10, lirc,
//! flow dissector), a legacy tc filter on a `clsact` qdisc, and a socket's
//! filter or reuseport program. The kernel keeps them until they are
//! detached by hand, which [`Link`](super::Link) does when dropped; they
//! have no descriptor, id, pin or info.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use libbpf_sys as sys;

use super::tc::{TcHook, TcOptions};
use crate::os::errno::check;
use crate::os::socket;

/// One attachment and what detaching it needs.
pub(crate) enum Attachment {
    /// `BPF_PROG_ATTACH` of `program` to `target` at `attach_type` with
    /// `flags`; descriptors of their own, so that they stay valid.
    ProgAttach {
        program: OwnedFd,
        target: OwnedFd,
        attach_type: u32,
        flags: u32,
    },
    /// A direct-action filter of interface `ifindex` at `hook`, found again
    /// by its handle and priority.
    Tc {
        ifindex: i32,
        hook: TcHook,
        handle: u32,
        priority: u32,
    },
    /// The filter of a socket (`SO_ATTACH_BPF`), or the program of its
    /// reuseport group (`SO_ATTACH_REUSEPORT_EBPF`); a descriptor of the
    /// socket of its own, which keeps the socket open while it lives.
    Socket { socket: OwnedFd, reuseport: bool },
}

impl Attachment {
    /// Detaches it (from drop, or [`Link::detach`](super::Link::detach)).
    pub(crate) fn detach(&self) -> io::Result<()> {
        match self {
            Attachment::ProgAttach {
                program,
                target,
                attach_type,
                ..
            } => {
                // SAFETY: a plain system call on descriptors this value owns.
                let ret = unsafe {
                    sys::bpf_prog_detach2(program.as_raw_fd(), target.as_raw_fd(), *attach_type)
                };
                check(ret).map(drop)
            }
            Attachment::Tc {
                ifindex,
                hook,
                handle,
                priority,
            } => {
                let hook = tc_hook(*ifindex, *hook);
                let opts = sys::bpf_tc_opts {
                    sz: size_of::<sys::bpf_tc_opts>() as _,
                    handle: *handle,
                    priority: *priority,
                    ..Default::default()
                };
                // SAFETY: a netlink request reading the two structs, which
                // outlive it.
                check(unsafe { sys::bpf_tc_detach(&hook, &opts) }).map(drop)
            }
            Attachment::Socket { socket, reuseport } => match reuseport {
                false => socket::detach_filter(socket.as_fd()),
                true => socket::detach_reuseport(socket.as_fd()),
            },
        }
    }

    /// Puts `new` where the attached program is, atomically: the kernel
    /// swaps the program of the filter, or of the cgroup's slot
    /// (`BPF_F_REPLACE` in a multi list; an exclusive or overridable slot
    /// holds one program, which attaching again replaces).
    pub(crate) fn replace(&mut self, new: OwnedFd) -> io::Result<()> {
        match self {
            Attachment::ProgAttach {
                program,
                target,
                attach_type,
                flags,
            } => {
                let mut opts = sys::bpf_prog_attach_opts {
                    sz: size_of::<sys::bpf_prog_attach_opts>() as _,
                    flags: *flags,
                    ..Default::default()
                };
                if *flags & sys::BPF_F_ALLOW_MULTI != 0 {
                    opts.flags |= sys::BPF_F_REPLACE;
                    opts.__bindgen_anon_1.replace_prog_fd = program.as_raw_fd();
                }
                // SAFETY: a plain system call on open descriptors; the
                // options outlive it.
                let ret = unsafe {
                    sys::bpf_prog_attach_opts(
                        new.as_raw_fd(),
                        target.as_raw_fd(),
                        *attach_type,
                        &opts,
                    )
                };
                check(ret)?;
                *program = new;
                Ok(())
            }
            Attachment::Tc {
                ifindex,
                hook,
                handle,
                priority,
            } => {
                let hook = tc_hook(*ifindex, *hook);
                let mut opts = sys::bpf_tc_opts {
                    sz: size_of::<sys::bpf_tc_opts>() as _,
                    prog_fd: new.as_raw_fd(),
                    flags: sys::BPF_TC_F_REPLACE,
                    handle: *handle,
                    priority: *priority,
                    ..Default::default()
                };
                // SAFETY: a netlink request; the structs outlive it, and
                // the program's descriptor is open across it (the filter
                // keeps a reference of its own to the program).
                check(unsafe { sys::bpf_tc_attach(&hook, &mut opts) }).map(drop)
            }
            // Attaching again replaces the socket's program.
            Attachment::Socket { socket, reuseport } => match reuseport {
                false => socket::attach_filter(socket.as_fd(), new.as_fd()),
                true => socket::attach_reuseport(socket.as_fd(), new.as_fd()),
            },
        }
    }

    /// Why there is no descriptor, for errors.
    pub(crate) fn why_no_fd(&self) -> &'static str {
        match self {
            Attachment::ProgAttach { .. } => {
                "the program was attached with BPF_PROG_ATTACH, which makes no BPF link"
            }
            Attachment::Tc { .. } => "a legacy tc filter is a netlink object, not a BPF link",
            Attachment::Socket { .. } => {
                "a socket's program is an option of the socket, not a BPF link"
            }
        }
    }
}

/// libbpf's description of the `clsact` side `hook` of `ifindex`.
pub(crate) fn tc_hook(ifindex: i32, hook: TcHook) -> sys::bpf_tc_hook {
    sys::bpf_tc_hook {
        sz: size_of::<sys::bpf_tc_hook>() as _,
        ifindex,
        attach_point: match hook {
            TcHook::Ingress => sys::BPF_TC_INGRESS,
            TcHook::Egress => sys::BPF_TC_EGRESS,
        },
        ..Default::default()
    }
}

/// Adds the filter `options` describes for the program `program` to the
/// `clsact` qdisc of `ifindex` (created when missing); returns the
/// attachment with the handle and priority the kernel gave it.
pub(crate) fn attach_tc(
    program: BorrowedFd<'_>,
    ifindex: i32,
    options: &TcOptions,
) -> io::Result<Attachment> {
    let mut hook = tc_hook(ifindex, options.hook);
    // SAFETY: a netlink request reading `hook`, which outlives it.
    match check(unsafe { sys::bpf_tc_hook_create(&mut hook) }) {
        // The interface has its clsact qdisc already.
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
        Err(e) => return Err(e),
    }
    let mut opts = sys::bpf_tc_opts {
        sz: size_of::<sys::bpf_tc_opts>() as _,
        prog_fd: program.as_raw_fd(),
        flags: if options.replace {
            sys::BPF_TC_F_REPLACE
        } else {
            0
        },
        handle: options.handle,
        priority: options.priority.into(),
        ..Default::default()
    };
    // SAFETY: a netlink request; the structs outlive it, and libbpf writes
    // the filter's handle and priority back into `opts`.
    check(unsafe { sys::bpf_tc_attach(&hook, &mut opts) })?;
    Ok(Attachment::Tc {
        ifindex,
        hook: options.hook,
        handle: opts.handle,
        priority: opts.priority,
    })
}
