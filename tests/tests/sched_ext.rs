//! sched_ext through the skeleton (tests/bpf/sched_ext.bpf.c): a scheduler
//! whose name, flags and timeout are set from Rust before load, registered
//! by `objs.attach()`, scheduling the test thread once it asks for
//! SCHED_EXT, its callbacks counted, and unregistered when its link drops.
//! A kernel without sched_ext (no /sys/kernel/sched_ext) refuses the load,
//! naming the missing type; that is what it is tested for there.

use std::time::Duration;

use ebpf_skeleton::{ebpf_skeleton, Error};
use ebpf_skeleton_tests::{eventually, tid};

ebpf_skeleton!("../bpf/sched_ext.bpf.o");

/// `SCX_OPS_SWITCH_PARTIAL`: only threads with the SCHED_EXT policy are
/// the scheduler's, so the rest of the machine is left alone.
const SWITCH_PARTIAL: u64 = 1 << 3;
/// The SCHED_EXT scheduling policy.
const SCHED_EXT: i32 = 7;
/// `SCX_EXIT_UNREG`: user space unloaded the scheduler.
const EXIT_UNREG: i32 = 64;

fn sched_ext_file(name: &str) -> String {
    std::fs::read_to_string(format!("/sys/kernel/sched_ext/{name}"))
        .unwrap_or_else(|e| panic!("/sys/kernel/sched_ext/{name}: {e}"))
        .trim()
        .to_owned()
}

/// Puts the calling thread under `policy` (priority 0).
fn set_policy(policy: i32) {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: a plain syscall on the calling thread with a valid parameter.
    let ret = unsafe { libc::sched_setscheduler(0, policy, &param) };
    assert_eq!(
        ret,
        0,
        "sched_setscheduler({policy}): {}",
        std::io::Error::last_os_error()
    );
}

/// The name as the scheduler's C struct holds it.
fn name_bytes(name: &str) -> [u8; 128] {
    let mut bytes = [0u8; 128];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    bytes
}

#[test]
fn a_scheduler_set_from_rust_schedules_the_thread_that_asks() {
    let mut specs = sched_ext::Specs::new().expect("open");
    let ops = &mut specs.struct_ops.ebpf_scx;
    assert_eq!(ops.name, name_bytes("ebpf_skeleton"), "the C initializer's");
    ops.name = name_bytes("ebpf_skel_test");
    ops.flags = SWITCH_PARTIAL;
    ops.timeout_ms = 10_000;
    specs.rodata.target_tid = tid();
    let loaded = specs.load();

    if !std::path::Path::new("/sys/kernel/sched_ext").exists() {
        // No sched_ext in this kernel: libbpf finds no map value type of
        // `sched_ext_ops` in its BTF and says so.
        match loaded {
            Err(Error::Load {
                object,
                source,
                details,
                ..
            }) => {
                assert_eq!(object, "sched_ext");
                assert_eq!(source.raw_os_error(), Some(libc::ESRCH), "{details}");
                assert!(
                    details.lines().any(|line| line
                        == "libbpf: struct_ops init_kern: struct bpf_struct_ops_sched_ext_ops \
                            is not found in kernel BTF"),
                    "{details}"
                );
            }
            other => panic!("expected the kernel to lack sched_ext, got {other:?}"),
        }
        return;
    }

    let objs = loaded.expect("load the scheduler");
    assert_eq!(sched_ext_file("state"), "disabled");
    let links = objs.attach().expect("register the scheduler");
    assert_eq!(links.len(), 1);
    assert_eq!(sched_ext_file("state"), "enabled");
    assert_eq!(sched_ext_file("root/ops"), "ebpf_skel_test");
    assert_eq!(sched_ext_file("switch_all"), "0", "partial switching");
    assert_eq!(objs.bss.inits.get(), 1);

    // Under SCHED_EXT this thread is the scheduler's: each turn it gets on
    // a CPU goes through `running`.
    set_policy(SCHED_EXT);
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(1));
    }
    set_policy(libc::SCHED_OTHER);
    let runs = objs.bss.runs.get();
    assert!(runs >= 20, "each wake-up is a turn: {runs}");

    drop(links);
    assert!(
        eventually(Duration::from_secs(10), || sched_ext_file("state")
            == "disabled"),
        "unregistered with its link"
    );
    assert_eq!(objs.data.exit_kind.get(), EXIT_UNREG);
}
