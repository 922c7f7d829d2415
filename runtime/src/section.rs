//! What a program's ELF section says about its hook.
//!
//! libbpf attaches a program by itself only when its section names the hook
//! completely (`tp/syscalls/sys_enter_openat`, `fentry/do_unlinkat`). Sections
//! such as `xdp`, `tc`, `socket` or a bare `uprobe` need a target from the
//! user (an interface, a cgroup, a binary). Deciding this here, rather than
//! trusting an `EOPNOTSUPP` from libbpf, keeps a real attach failure from being
//! mistaken for "nothing to attach".
//!
//! Two more kinds attach by themselves here, where libbpf would not: an
//! `sk_lookup` or `flow_dissector` program attaches to the network namespace
//! of the thread attaching it. Iterators over a map's elements
//! (`iter/bpf_map_elem`, `iter/bpf_sk_storage_map`, `iter/sockmap`) need the
//! map, and so a target from the user.

/// Section prefixes whose programs libbpf can attach by itself, given a
/// non-empty target after the `/`.
const SELF_ATTACHING: &[&str] = &[
    "tp",
    "tracepoint",
    "raw_tp",
    "raw_tracepoint",
    "raw_tp.w",
    "raw_tracepoint.w",
    "tp_btf",
    "fentry",
    "fentry.s",
    "fexit",
    "fexit.s",
    "fmod_ret",
    "fmod_ret.s",
    "lsm",
    "lsm.s",
    "iter",
    "iter.s",
    "kprobe",
    "kretprobe",
    "kprobe.multi",
    "kretprobe.multi",
    "kprobe.session",
    "ksyscall",
    "kretsyscall",
    "uprobe",
    "uretprobe",
    "uprobe.s",
    "uretprobe.s",
    "uprobe.multi",
    "uretprobe.multi",
    "uprobe.multi.s",
    "uretprobe.multi.s",
    "uprobe.session",
    "usdt",
];

/// Sections whose programs attach to the attaching thread's network
/// namespace.
const OWN_NETNS: &[&str] = &["sk_lookup", "flow_dissector"];

/// Iterators that walk the elements of a map the user gives.
const MAP_ITERATORS: &[&str] = &["bpf_map_elem", "bpf_sk_storage_map", "sockmap"];

/// Whether a program in `section` attaches by itself: its section names a
/// complete hook, or a hook of the attaching thread's network namespace.
pub fn names_hook(section: &str) -> bool {
    if attaches_to_own_netns(section) {
        return true;
    }
    match section.split_once('/') {
        Some(("iter" | "iter.s", target)) => !target.is_empty() && !MAP_ITERATORS.contains(&target),
        Some((prefix, target)) => !target.is_empty() && SELF_ATTACHING.contains(&prefix),
        None => false,
    }
}

/// Whether a program in `section` attaches by itself to the network
/// namespace of the thread attaching it (`sk_lookup`, `flow_dissector`).
pub(crate) fn attaches_to_own_netns(section: &str) -> bool {
    let prefix = section.split('/').next().unwrap_or("");
    OWN_NETNS.contains(&prefix)
}

/// Whether the program needs kprobe support from the kernel.
pub(crate) fn is_kprobe(section: &str) -> bool {
    let prefix = section.split('/').next().unwrap_or("");
    prefix.starts_with("kprobe")
        || prefix.starts_with("kretprobe")
        || prefix == "ksyscall"
        || prefix == "kretsyscall"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_hooks_attach() {
        for s in [
            "tp/syscalls/sys_enter_getppid",
            "raw_tp/sys_enter",
            "fentry/do_unlinkat",
            "lsm/file_open",
            "kprobe/do_sys_open",
            "uprobe//bin/bash:readline",
            "usdt/libc.so.6:libc:setjmp",
            "iter/task",
            "iter/cgroup",
            "sk_lookup",
            "flow_dissector",
        ] {
            assert!(names_hook(s), "{s}");
        }
    }

    #[test]
    fn sections_without_a_hook_do_not() {
        for s in [
            "xdp",
            "tc",
            "socket",
            "perf_event",
            "uprobe",
            "kprobe/",
            "cgroup_skb/ingress",
            "struct_ops/foo",
            "freplace/foo",
            "sk_msg",
            "iter/bpf_map_elem",
            "iter/sockmap",
            "iter/",
        ] {
            assert!(!names_hook(s), "{s}");
        }
    }

    #[test]
    fn kprobe_family() {
        assert!(is_kprobe("kprobe/x"));
        assert!(is_kprobe("kretprobe.multi/x*"));
        assert!(is_kprobe("ksyscall/openat"));
        assert!(!is_kprobe("uprobe/x"));
        assert!(!is_kprobe("tp/a/b"));
    }
}
