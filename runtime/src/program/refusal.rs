//! Why the kernel refused to load programs with `EPERM`, when this process
//! can tell: a capability it lacks (naming only those the programs' types
//! need), or lockdown.

use std::io;

use super::ProgramType;
use crate::os::caps;
use crate::os::errno::code_of;

/// The hint for a load of programs of `types` that failed with `source`;
/// `what` names what was loaded ("this object", "program `x`").
pub(crate) fn permission_hint(
    what: &str,
    types: impl IntoIterator<Item = ProgramType>,
    source: &io::Error,
) -> Option<String> {
    if code_of(source) != Some(libc::EPERM) {
        return None;
    }
    let mut needed = vec![caps::BPF];
    for kind in types {
        for cap in caps_for(kind) {
            if !needed.contains(cap) {
                needed.push(*cap);
            }
        }
    }
    let missing: Vec<&str> = needed
        .iter()
        .filter(|&&cap| caps::has(cap) == Some(false))
        .map(|&cap| caps::name(cap))
        .collect();
    if !missing.is_empty() && caps::has(caps::SYS_ADMIN) != Some(true) {
        let all: Vec<&str> = needed.iter().map(|&c| caps::name(c)).collect();
        return Some(format!(
            "loading {what} needs root or {}; this process lacks {}",
            all.join(" and "),
            missing.join(" and ")
        ));
    }
    caps::lockdown().map(|mode| {
        format!(
            "the kernel is locked down ({mode} mode, /sys/kernel/security/lockdown), which \
             refuses some program types (fentry, fexit, fmod_ret, LSM, kprobe writes, on some \
             kernels map iterators) to everyone"
        )
    })
}

/// What the kernel checks for a program type, besides `CAP_BPF`.
fn caps_for(kind: ProgramType) -> &'static [u32] {
    match kind {
        ProgramType::EXT => &[caps::PERFMON, caps::NET_ADMIN],
        ProgramType::KPROBE
        | ProgramType::TRACEPOINT
        | ProgramType::PERF_EVENT
        | ProgramType::RAW_TRACEPOINT
        | ProgramType::RAW_TRACEPOINT_WRITABLE
        | ProgramType::TRACING
        | ProgramType::LSM
        | ProgramType::STRUCT_OPS => &[caps::PERFMON],
        ProgramType::SCHED_CLS
        | ProgramType::SCHED_ACT
        | ProgramType::XDP
        | ProgramType::LWT_IN
        | ProgramType::LWT_OUT
        | ProgramType::LWT_XMIT
        | ProgramType::LWT_SEG6LOCAL
        | ProgramType::SK_SKB
        | ProgramType::SK_MSG
        | ProgramType::FLOW_DISSECTOR
        | ProgramType::CGROUP_DEVICE
        | ProgramType::CGROUP_SOCK
        | ProgramType::CGROUP_SOCK_ADDR
        | ProgramType::CGROUP_SOCKOPT
        | ProgramType::CGROUP_SYSCTL
        | ProgramType::SOCK_OPS
        | ProgramType::NETFILTER => &[caps::NET_ADMIN],
        _ => &[],
    }
}
