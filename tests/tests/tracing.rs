//! Tracing programs with their options: one tracepoint program at two
//! tracepoints told apart by cookie, a raw tracepoint with a cookie, a BTF
//! tracepoint chosen at run time with a cookie, trampoline programs (fentry,
//! fexit, fmod_ret, lsm) whose targets are chosen at run time, an LSM
//! program of a cgroup, and a freplace program in place of a function of
//! another program.
//!
//! A kernel locked down for integrity (this machine's) refuses trampoline,
//! lsm_cgroup and freplace programs at load with EPERM: here those tests
//! check that error; in VMs of other kernels they count.

use std::fs::File;

use ebpf_skeleton::link::{CgroupOptions, LinkDetail, LinkType, PerfEventDetail, TraceOptions};
use ebpf_skeleton::{ebpf_skeleton, AttachType, Error, TestRun, UpdateFlags};
use ebpf_skeleton_tests::kernel::kernel;
use ebpf_skeleton_tests::{getppid_n, own_cgroup, tid};

ebpf_skeleton!("../bpf/tracing.bpf.o");
ebpf_skeleton!("../bpf/tp_btf_cookie.bpf.o");
ebpf_skeleton!("../bpf/raw_tp_cookie.bpf.o");
ebpf_skeleton!("../bpf/trampolines.bpf.o");
ebpf_skeleton!("../bpf/lsm_cgroup.bpf.o");
ebpf_skeleton!("../bpf/freplace_target.bpf.o");
ebpf_skeleton!("../bpf/freplace.bpf.o");

/// The kernel function getpgid(2) enters (in the BTF of every kernel
/// tested, unlike getppid's).
const GETPGID: &str = "__x64_sys_getpgid";

/// getpgid(0), straight to the kernel.
fn getpgid() -> i64 {
    // SAFETY: getpgid has one integer argument.
    unsafe { libc::syscall(libc::SYS_getpgid, 0) }
}

/// Whether the kernel is locked down, which refuses trampoline programs.
fn locked_down() -> bool {
    kernel().locked_down()
}

/// The cookie a raw tracepoint's or trampoline's link info shows for
/// `cookie`: kernels before 6.15 take the cookie but leave it out of the
/// info (6.12 shows 0, 6.18 the cookie).
fn info_cookie(cookie: u64) -> u64 {
    if kernel().at_least(6, 15) {
        cookie
    } else {
        0
    }
}

/// Checks the load error a locked-down kernel gives for `program`.
fn assert_locked_down(err: &Error, program: &str) {
    let Error::ProgramLoad { program: p, .. } = err else {
        panic!("expected a program load error, got {err}");
    };
    assert_eq!(p, program, "{err}");
    assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
    assert!(
        err.to_string()
            .contains("the kernel is locked down (integrity mode, /sys/kernel/security/lockdown)"),
        "{err}"
    );
}

#[test]
fn one_tracepoint_program_at_two_tracepoints_told_apart_by_cookie() {
    let loaded = tracing::Objects::load();
    if !kernel().at_least(5, 15) {
        // bpf_get_attach_cookie is no tracepoint helper before 5.15.
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_tp"),
            "{err}"
        );
        return;
    }
    let objs = loaded.unwrap();
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let hits = |slot| objs.maps.hits.get(slot).unwrap().unwrap();
    let p = &objs.programs.on_tp;
    let getppid = p
        .attach_tracepoint_with("syscalls", "sys_enter_getppid", &TraceOptions::cookie(1))
        .unwrap();
    let _getpgid = p
        .attach_tracepoint_with("syscalls", "sys_enter_getpgid", &TraceOptions::cookie(2))
        .unwrap();
    getppid_n(3);
    getpgid();
    getpgid();
    assert_eq!([hits(1), hits(2)], [3, 2]);
    // Perf links describe their event from 6.6.
    let detail = if kernel().at_least(6, 6) {
        PerfEventDetail::Tracepoint {
            name: "sys_enter_getppid".into(),
            cookie: 1,
        }
    } else {
        PerfEventDetail::Unknown
    };
    assert_eq!(
        getppid.info().unwrap().detail,
        LinkDetail::PerfEvent(detail)
    );
}

#[test]
fn a_raw_tracepoint_with_a_cookie_from_linux_6_10() {
    let loaded = raw_tp_cookie::Objects::load();
    if !kernel().at_least(6, 10) {
        // bpf_get_attach_cookie is no raw tracepoint helper before 6.10.
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_raw"),
            "{err}"
        );
        return;
    }
    let objs = loaded.unwrap();
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let link = objs
        .programs
        .on_raw
        .attach_raw_tracepoint_with("sys_enter", &TraceOptions::cookie(6))
        .unwrap();
    getppid_n(4);
    assert_eq!(objs.maps.hits.get(6).unwrap(), Some(4));
    assert_eq!(
        link.info().unwrap().detail,
        LinkDetail::RawTracepoint {
            name: "sys_enter".into(),
            cookie: info_cookie(6)
        }
    );
}

#[test]
fn a_btf_tracepoint_chosen_at_run_time_with_a_cookie() {
    let mut specs = tp_btf_cookie::Specs::new().unwrap();
    specs.programs.on_tp_btf.set_attach_function("sys_enter");
    let loaded = specs.load();
    if !kernel().at_least(6, 10) {
        // BTF tracepoints read no cookie before 6.10.
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_tp_btf"),
            "{err}"
        );
        return;
    }
    let objs = loaded.unwrap();
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let link = objs
        .programs
        .on_tp_btf
        .attach_trace(&TraceOptions::cookie(5))
        .unwrap();
    assert_eq!(link.target(), "the kernel function of its tp_btf program");
    getppid_n(6);
    assert_eq!(objs.maps.hits.get(5).unwrap(), Some(6));
    // The kernel makes a BTF tracepoint's link a raw tracepoint's.
    let info = link.info().unwrap();
    assert_eq!(info.link_type, LinkType::RAW_TRACEPOINT);
    assert_eq!(
        info.detail,
        LinkDetail::RawTracepoint {
            name: "sys_enter".into(),
            cookie: info_cookie(5)
        }
    );
}

#[test]
fn trampoline_programs_on_targets_chosen_at_run_time() {
    let mut specs = trampolines::Specs::new().unwrap();
    let p = &mut specs.programs;
    p.on_fentry.set_attach_function(GETPGID);
    p.on_fexit.set_attach_function(GETPGID);
    // fmod_ret needs a function the kernel lets programs change the return
    // of: a security hook (or one on its error injection list).
    p.on_fmod_ret.set_attach_function("security_file_open");
    p.on_lsm.set_attach_function("file_open");
    let loaded = specs.load();
    if locked_down() {
        assert_locked_down(&loaded.unwrap_err(), "on_fentry");
        return;
    }
    if !kernel().at_least(5, 19) {
        // Trampoline programs read no attach cookie before 5.19.
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_fentry"),
            "{err}"
        );
        return;
    }
    let objs = loaded.unwrap();
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let hits = |slot| objs.maps.hits.get(slot).unwrap().unwrap();
    let p = &objs.programs;
    let _entry = p.on_fentry.attach_trace(&TraceOptions::cookie(1)).unwrap();
    let exit = p.on_fexit.attach_trace(&TraceOptions::cookie(2)).unwrap();
    for _ in 0..3 {
        getpgid();
    }
    assert_eq!([hits(1), hits(8 + 2)], [3, 3]);
    let LinkDetail::Tracing {
        attach_type,
        cookie,
        ..
    } = exit.info().unwrap().detail
    else {
        panic!("a tracing link");
    };
    assert_eq!(
        (attach_type, cookie),
        (AttachType::TRACE_FEXIT, info_cookie(2))
    );

    // fmod_ret decides what the function returns to this thread: opening
    // a file is refused with the errno it returns.
    objs.bss.fake_return.set(-i64::from(libc::EACCES));
    let fmod = p.on_fmod_ret.attach_trace(&TraceOptions::new()).unwrap();
    let err = File::open("/proc/self/status").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EACCES));
    assert_eq!(hits(16), 1);
    drop(fmod);
    File::open("/proc/self/status").unwrap();

    let lsm_active = std::fs::read_to_string("/sys/kernel/security/lsm")
        .unwrap_or_default()
        .split(',')
        .any(|l| l.trim() == "bpf");
    let lsm = p.on_lsm.attach_lsm();
    if lsm_active {
        let _lsm = lsm.unwrap();
        drop(File::open("/proc/self/status").unwrap());
        drop(File::open("/proc/self/stat").unwrap());
        assert!(hits(24) >= 2, "{} opens", hits(24));
    } else {
        let err = lsm.unwrap_err();
        assert!(matches!(err, Error::Attach { .. }), "{err}");
    }
}

#[test]
fn an_lsm_program_of_a_cgroup() {
    let loaded = lsm_cgroup::Objects::load();
    if locked_down() {
        assert_locked_down(&loaded.unwrap_err(), "on_bind");
        return;
    }
    if !kernel().at_least(6, 0) {
        // No LSM programs of cgroups before 6.0.
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_bind"),
            "{err}"
        );
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        return;
    }
    let objs = loaded.unwrap();
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let cgroup = File::open(own_cgroup()).unwrap();
    let link = objs
        .programs
        .on_bind
        .attach_cgroup_with(&cgroup, &CgroupOptions::new())
        .unwrap();
    for _ in 0..3 {
        drop(std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
    }
    assert_eq!(objs.maps.hits.get(0).unwrap(), Some(3));
    let LinkDetail::Cgroup { attach_type, .. } = link.info().unwrap().detail else {
        panic!("a cgroup link");
    };
    assert_eq!(attach_type, AttachType::LSM_CGROUP);
}

#[test]
fn a_freplace_program_replaces_a_function_of_another_program() {
    let target = freplace_target::Objects::load().unwrap();
    let entry = &target.programs.entry;
    // A frame of 70 bytes: the socket filter sees its 56 after the
    // Ethernet header, and returns decide(56).
    let run = |entry: &ebpf_skeleton::Program| {
        entry
            .test_run_with(&TestRun::new().data(&[0u8; 70]))
            .unwrap()
            .return_value
    };
    assert_eq!(run(entry), 57, "decide(56) = 56 + 1");
    let mut specs = freplace::Specs::new().unwrap();
    specs
        .programs
        .new_decide
        .set_replaced_function(entry, "decide")
        .unwrap();
    let loaded = specs.load();
    if locked_down() {
        assert_locked_down(&loaded.unwrap_err(), "new_decide");
        return;
    }
    let objs = loaded.unwrap();
    let link = objs
        .programs
        .new_decide
        .attach_freplace(entry, "decide")
        .unwrap();
    assert_eq!(run(entry), 5600, "decide(56) = 56 * 100 while replaced");
    let LinkDetail::Tracing {
        target_object_id, ..
    } = link.info().unwrap().detail
    else {
        panic!("a tracing link");
    };
    // The target's id is in the info from 6.1 (5.10 leaves it 0).
    let expected = if kernel().at_least(6, 1) {
        entry.id().unwrap()
    } else {
        0
    };
    assert_eq!(target_object_id, expected, "the target program");
    drop(link);
    assert_eq!(run(entry), 57, "the function is back");
}
