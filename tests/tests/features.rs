//! Feature probes against the running kernel. What each kernel has is
//! known by its version and config (and lockdown, which refuses tracing
//! programs to everyone): the expected answers are derived from those, so
//! the same tests check a 5.10 kernel, where ring buffers are and bloom
//! filters, `bpf_loop`, tcx and ISA v4 are not, and this host's.

use ebpf_skeleton::asm::Helper;
use ebpf_skeleton::features::{self, Support};
use ebpf_skeleton::{AttachType, Error, MapType, ProgramType};
use ebpf_skeleton_tests::kconfig;
use ebpf_skeleton_tests::kernel::kernel;

/// Whether the kernel is at least `major.minor`.
fn since(major: u32, minor: u32) -> Support {
    answer(kernel().at_least(major, minor))
}

fn answer(supported: bool) -> Support {
    if supported {
        Support::Supported
    } else {
        Support::Unsupported
    }
}

fn locked_down() -> bool {
    kernel().locked_down()
}

/// Asserts that a probe could not tell, with the errno `errno`, and
/// returns its message.
fn could_not_tell(answer: ebpf_skeleton::Result<Support>, errno: i32) -> String {
    let err = answer.unwrap_err();
    assert!(matches!(err, Error::Probe { .. }), "{err:?}");
    assert_eq!(err.errno(), Some(errno), "{err}");
    err.to_string()
}

#[test]
fn program_types_are_those_of_this_kernel() {
    let probe = |kind| features::program_type(kind).unwrap();
    assert_eq!(probe(ProgramType::SOCKET_FILTER), Support::Supported);
    assert_eq!(probe(ProgramType::XDP), Support::Supported);
    assert_eq!(probe(ProgramType::SCHED_CLS), Support::Supported);
    assert_eq!(probe(ProgramType::KPROBE), Support::Supported);
    assert_eq!(probe(ProgramType::CGROUP_SOCK_ADDR), Support::Supported);
    assert_eq!(probe(ProgramType::SK_LOOKUP), since(5, 9));
    assert_eq!(probe(ProgramType::SYSCALL), since(5, 14));
    assert_eq!(probe(ProgramType::NETFILTER), since(6, 4));
    assert_eq!(probe(ProgramType::STRUCT_OPS), Support::Supported);
    assert_eq!(probe(ProgramType::UNSPEC), Support::Unsupported);
    assert_eq!(probe(ProgramType(1000)), Support::Unsupported);
    for kind in [ProgramType::TRACING, ProgramType::LSM] {
        let answer = features::program_type(kind);
        if locked_down() {
            let text = could_not_tell(answer, libc::EPERM);
            assert!(text.contains("locked down"), "{text}");
        } else {
            assert_eq!(answer.unwrap(), Support::Supported, "{kind}");
        }
    }
}

#[test]
fn map_types_are_those_of_this_kernel() {
    let probe = |kind| features::map_type(kind).unwrap();
    for kind in [
        MapType::HASH,
        MapType::ARRAY,
        MapType::PERCPU_ARRAY,
        MapType::LPM_TRIE,
        MapType::HASH_OF_MAPS,
        MapType::STACK_TRACE,
        MapType::CGROUP_STORAGE,
        MapType::QUEUE,
        MapType::SK_STORAGE,
        MapType::STRUCT_OPS,
    ] {
        assert_eq!(probe(kind), Support::Supported, "{kind}");
    }
    assert_eq!(probe(MapType::RINGBUF), since(5, 8));
    assert_eq!(probe(MapType::TASK_STORAGE), since(5, 11));
    assert_eq!(probe(MapType::BLOOM_FILTER), since(5, 16));
    assert_eq!(probe(MapType::USER_RINGBUF), since(6, 1));
    assert_eq!(probe(MapType::CGRP_STORAGE), since(6, 2));
    assert_eq!(probe(MapType::ARENA), since(6, 9));
    assert_eq!(probe(MapType::UNSPEC), Support::Unsupported);
    assert_eq!(probe(MapType(1000)), Support::Unsupported);
}

#[test]
fn helpers_are_those_this_kernel_gives_each_type() {
    let probe = |kind, helper| features::helper(kind, helper).unwrap();
    assert_eq!(
        probe(ProgramType::SOCKET_FILTER, Helper::MapLookupElem),
        Support::Supported
    );
    // Only tracing programs may write user memory.
    assert_eq!(
        probe(ProgramType::SOCKET_FILTER, Helper::ProbeWriteUser),
        Support::Unsupported
    );
    // ... and not under lockdown (LOCKDOWN_BPF_WRITE_USER).
    let write_user = if locked_down() {
        Support::Unsupported
    } else {
        Support::Supported
    };
    assert_eq!(
        probe(ProgramType::KPROBE, Helper::ProbeWriteUser),
        write_user
    );
    assert_eq!(probe(ProgramType::KPROBE, Helper::Loop), since(5, 17));
    assert_eq!(probe(ProgramType::XDP, Helper::RingbufOutput), since(5, 8));
    // A number past the kernel's last helper.
    let past = Helper::ALL.len() as i32;
    assert_eq!(
        features::helper_id(ProgramType::SOCKET_FILTER, past).unwrap(),
        Support::Unsupported
    );
    // No helper of a type the kernel does not have.
    assert_eq!(
        probe(ProgramType(1000), Helper::MapLookupElem),
        Support::Unsupported
    );
}

#[test]
fn attach_types_are_those_this_kernel_links() {
    let probe = |hook| features::attach_type(hook).unwrap();
    assert_eq!(probe(AttachType::CGROUP_INET_EGRESS), Support::Supported);
    assert_eq!(probe(AttachType::CGROUP_INET4_CONNECT), Support::Supported);
    assert_eq!(probe(AttachType::XDP), Support::Supported);
    assert_eq!(probe(AttachType::PERF_EVENT), since(5, 15));
    assert_eq!(probe(AttachType::TCX_INGRESS), since(6, 6));
    assert_eq!(probe(AttachType::SK_MSG_VERDICT), since(6, 10));
    // netkit links need the driver built in.
    let netkit = kconfig::config("NETKIT").as_deref() == Some("y") && kernel().at_least(6, 7);
    assert_eq!(probe(AttachType::NETKIT_PRIMARY), answer(netkit));
    let text = could_not_tell(
        features::attach_type(AttachType::TRACE_FENTRY),
        libc::EOPNOTSUPP,
    );
    assert!(
        text.contains("this crate probes the attach types of cgroups"),
        "{text}"
    );
}

#[test]
fn isa_versions_are_those_of_this_kernel() {
    for version in 1..=3 {
        assert_eq!(
            features::isa(version).unwrap(),
            Support::Supported,
            "v{version}"
        );
    }
    assert_eq!(features::isa(4).unwrap(), since(6, 6));
    for version in [0, 5] {
        let text = could_not_tell(features::isa(version), libc::EINVAL);
        assert!(text.contains("versions 1 to 4"), "{text}");
    }
}

/// Without privileges a probe cannot tell; what was answered before is
/// kept and still answered.
#[test]
fn without_privileges_a_probe_cannot_tell_and_answers_are_kept() {
    ebpf_skeleton_tests::in_own_process(
        "without_privileges_a_probe_cannot_tell_and_answers_are_kept",
        || {
            assert_eq!(
                features::program_type(ProgramType::KPROBE).unwrap(),
                Support::Supported
            );
            // nobody: no capabilities left.
            // SAFETY: plain system calls; the test runs alone in its process.
            unsafe {
                assert_eq!(libc::setgid(65534), 0);
                assert_eq!(libc::setuid(65534), 0);
            }
            assert_eq!(
                features::program_type(ProgramType::KPROBE).unwrap(),
                Support::Supported,
                "the answer given as root is kept"
            );
            let text = could_not_tell(features::program_type(ProgramType::XDP), libc::EPERM);
            assert!(text.contains("needs root or CAP_BPF"), "{text}");
            let text = could_not_tell(features::map_type(MapType::CPUMAP), libc::EPERM);
            assert!(
                text.contains("creating maps needs root or CAP_BPF"),
                "{text}"
            );
            // Not kept: asked again, still could not tell.
            could_not_tell(features::program_type(ProgramType::XDP), libc::EPERM);
        },
    );
}
