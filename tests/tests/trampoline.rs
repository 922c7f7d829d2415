//! fentry, fexit and lsm programs, which attach through BPF trampolines.
//!
//! A kernel locked down for integrity (this machine's is built with
//! CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY) refuses trampoline programs with
//! EPERM before the verifier runs. Either outcome is checked against what
//! the kernel did: on a kernel that takes them, each program counts the test
//! thread's calls; on one that refuses them, the error names the program,
//! the errno, and says there is no verifier log.

use ebpf_skeleton::{ebpf_skeleton, Error, UpdateFlags};
use ebpf_skeleton_tests::{getppid_n, tid};

ebpf_skeleton!("../bpf/trampoline.bpf.o");

#[test]
fn trampoline_programs_run_or_are_refused_clearly() {
    match trampoline::Objects::load() {
        Ok(objs) => counts_calls(objs),
        Err(err) => {
            let Error::ProgramLoad {
                program,
                log,
                details,
                ..
            } = &err
            else {
                panic!("expected a program load error, got {err}");
            };
            assert_eq!(
                program, "on_fentry",
                "the first trampoline program is refused"
            );
            assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
            assert!(log.is_empty(), "{log}");
            assert!(
                details.contains("prog 'on_fentry': BPF program load failed"),
                "{details}"
            );
            let text = err.to_string();
            assert!(
                text.contains("(the kernel wrote no verifier log)"),
                "{text}"
            );
            assert!(
                text.ends_with("the kernel is locked down (integrity mode, /sys/kernel/security/lockdown), \
                     which refuses some program types (fentry, fexit, fmod_ret, LSM, kprobe writes, on some kernels map iterators) to everyone"),
                "{text}"
            );
        }
    }
}

fn counts_calls(objs: trampoline::Objects) {
    let links = objs.attach().expect("attach");
    assert_eq!(links.len(), 3);
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    getppid_n(4);
    std::fs::File::open("/proc/self/status").unwrap();
    let hit = |slot: u32| objs.maps.hits.get(slot).unwrap().unwrap();
    assert_eq!([hit(0), hit(1)], [4, 4]);
    assert!(hit(2) >= 1);
}
