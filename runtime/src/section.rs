//! What a program's ELF section says about its hook.
//!
//! libbpf attaches a program by itself only when its section names the hook
//! completely (`tp/syscalls/sys_enter_openat`, `fentry/do_unlinkat`). Sections
//! such as `xdp`, `tc`, `socket` or a bare `uprobe` need a target from the
//! user (an interface, a cgroup, a binary). Deciding this here, rather than
//! trusting an `EOPNOTSUPP` from libbpf, keeps a real attach failure from being
//! mistaken for "nothing to attach".

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

/// Whether a program in `section` attaches by itself (its section names a
/// complete hook).
pub fn names_hook(section: &str) -> bool {
    match section.split_once('/') {
        Some((prefix, target)) => !target.is_empty() && SELF_ATTACHING.contains(&prefix),
        None => false,
    }
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
