//! The attach type probe: a probe program loaded for the hook, linked to a
//! target that does not exist. The kernel checks the hook before the
//! target: `EINVAL` says it has no links of that hook, `EBADF` or `ENODEV`
//! (no such descriptor, no such interface) that it has. XDP says `EINVAL`
//! for a missing interface too: its probe links to the loopback interface
//! of a network namespace of its own.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use super::load::load;
use super::programs::{setup, Unknown};
use super::{could_not_tell, refused, Support};
use crate::asm::{exit, AluOp, Builder, R0};
use crate::error::Result;
use crate::os::netns::in_private_netns;
use crate::program::refusal::permission_hint;
use crate::{AttachType, ProgramType};

/// An interface index no interface has.
const NO_INTERFACE: i32 = i32::MAX;
/// The loopback interface's index, in every network namespace.
const LOOPBACK: i32 = 1;
/// A descriptor no process has.
const NO_DESCRIPTOR: i32 = -1;

pub(super) fn attach_type(hook: AttachType) -> Result<Support> {
    let feature = format!("attach type {hook}");
    let Some((kind, target)) = program_and_target(hook) else {
        return Err(could_not_tell(
            feature,
            std::io::Error::from_raw_os_error(libc::EOPNOTSUPP),
            "this crate probes the attach types of cgroups, interfaces, socket maps, network \
             namespaces and perf events"
                .to_owned(),
        ));
    };
    let mut probe = match setup(kind) {
        Ok(setup) => setup,
        Err(Unknown::No) => return Ok(Support::Unsupported),
        Err(Unknown::CannotTell(source, reason)) => {
            return Err(could_not_tell(feature, source, reason))
        }
    };
    probe.expected_attach_type = hook.0;
    let mut b = Builder::new();
    // cgroup programs allow with 1; the others take any verdict.
    b.push(AluOp::Mov.imm(R0, 1)).push(exit());
    let program = b.build().unwrap_or_default();
    let fd = match load(&probe, &program, false).0 {
        Ok(fd) => fd,
        Err(source) => {
            let hint = permission_hint(&feature, [kind], &source);
            return refused(feature, source, hint);
        }
    };
    let link = |target| {
        // SAFETY: a plain system call; NULL options take the defaults.
        let ret = unsafe { sys::bpf_link_create(fd.as_raw_fd(), target, hook.0, std::ptr::null()) };
        if ret >= 0 {
            // SAFETY: the kernel returned a link; it is closed at once.
            drop(unsafe { OwnedFd::from_raw_fd(ret) });
        }
        ret
    };
    let ret = if hook == AttachType::XDP {
        in_private_netns(|| link(LOOPBACK)).map_err(|source| {
            let reason = "its probe needs a network namespace of its own (CAP_SYS_ADMIN)";
            could_not_tell(&feature, source, reason.to_owned())
        })?
    } else {
        link(target)
    };
    if ret >= 0 {
        return Ok(Support::Supported);
    }
    match -ret {
        libc::EBADF | libc::ENODEV | libc::ENOENT | libc::ENOTSOCK => Ok(Support::Supported),
        errno => refused(feature, std::io::Error::from_raw_os_error(errno), None),
    }
}

/// The program type that attaches as `hook`, and a target of the right
/// family that does not exist.
fn program_and_target(hook: AttachType) -> Option<(ProgramType, i32)> {
    use AttachType as A;
    let cgroup = |kind| Some((kind, NO_DESCRIPTOR));
    match hook {
        A::CGROUP_INET_INGRESS | A::CGROUP_INET_EGRESS => cgroup(ProgramType::CGROUP_SKB),
        A::CGROUP_INET_SOCK_CREATE
        | A::CGROUP_INET_SOCK_RELEASE
        | A::CGROUP_INET4_POST_BIND
        | A::CGROUP_INET6_POST_BIND => cgroup(ProgramType::CGROUP_SOCK),
        A::CGROUP_SOCK_OPS => cgroup(ProgramType::SOCK_OPS),
        A::CGROUP_DEVICE => cgroup(ProgramType::CGROUP_DEVICE),
        A::CGROUP_SYSCTL => cgroup(ProgramType::CGROUP_SYSCTL),
        A::CGROUP_GETSOCKOPT | A::CGROUP_SETSOCKOPT => cgroup(ProgramType::CGROUP_SOCKOPT),
        A::CGROUP_INET4_BIND
        | A::CGROUP_INET6_BIND
        | A::CGROUP_INET4_CONNECT
        | A::CGROUP_INET6_CONNECT
        | A::CGROUP_UDP4_SENDMSG
        | A::CGROUP_UDP6_SENDMSG
        | A::CGROUP_UDP4_RECVMSG
        | A::CGROUP_UDP6_RECVMSG
        | A::CGROUP_INET4_GETPEERNAME
        | A::CGROUP_INET6_GETPEERNAME
        | A::CGROUP_INET4_GETSOCKNAME
        | A::CGROUP_INET6_GETSOCKNAME
        | A::CGROUP_UNIX_CONNECT
        | A::CGROUP_UNIX_SENDMSG
        | A::CGROUP_UNIX_RECVMSG
        | A::CGROUP_UNIX_GETPEERNAME
        | A::CGROUP_UNIX_GETSOCKNAME => cgroup(ProgramType::CGROUP_SOCK_ADDR),
        A::XDP => Some((ProgramType::XDP, NO_INTERFACE)),
        A::TCX_INGRESS | A::TCX_EGRESS | A::NETKIT_PRIMARY | A::NETKIT_PEER => {
            Some((ProgramType::SCHED_CLS, NO_INTERFACE))
        }
        A::SK_MSG_VERDICT => Some((ProgramType::SK_MSG, NO_DESCRIPTOR)),
        A::SK_SKB_STREAM_PARSER | A::SK_SKB_STREAM_VERDICT | A::SK_SKB_VERDICT => {
            Some((ProgramType::SK_SKB, NO_DESCRIPTOR))
        }
        A::SK_LOOKUP => Some((ProgramType::SK_LOOKUP, NO_DESCRIPTOR)),
        A::FLOW_DISSECTOR => Some((ProgramType::FLOW_DISSECTOR, NO_DESCRIPTOR)),
        A::PERF_EVENT => Some((ProgramType::PERF_EVENT, NO_DESCRIPTOR)),
        _ => None,
    }
}
