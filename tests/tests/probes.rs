//! Probes with their options: kprobes and kretprobes with cookies, sets of
//! kprobes (kprobe_multi, kretprobe_multi, kprobe.session), uprobes on a
//! shared library found by name and on this binary, sets of uprobes
//! (uprobe_multi), and USDT probes of a target binary with a cookie and a
//! semaphore. Each counts the hits of the test thread (or of the target
//! process) by cookie.
//!
//! This machine's kernel has no kprobes: there the kprobe tests check the
//! error; in VMs of other kernels (`./x test --kernel 6.12`) they count.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicU16;
use std::sync::atomic::Ordering::SeqCst;

use ebpf_skeleton::link::{
    Kprobe, KprobeMulti, LinkDetail, PerfEventDetail, Uprobe, UprobeMulti, Usdt,
};
use ebpf_skeleton::{ebpf_skeleton, Error, UpdateFlags};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::{getppid_n, kconfig, tid};

ebpf_skeleton!("../bpf/probes.bpf.o");
ebpf_skeleton!("../bpf/probe_session.bpf.o");

/// Bases of the slots of `hits`, as in probes.bpf.c (slot = base + cookie).
const KPROBE: u32 = 0;
const KRETPROBE: u32 = 8;
const KPROBE_MULTI: u32 = 16;
const KRETPROBE_MULTI: u32 = 24;
const UPROBE: u32 = 32;
const URETPROBE: u32 = 40;
const UPROBE_MULTI: u32 = 48;
const URETPROBE_MULTI: u32 = 56;
const USDT: u32 = 64;

/// The kernel function getppid(2) enters.
const GETPPID: &str = "__x64_sys_getppid";

/// probes.bpf.o with this thread as its target, or `None` on a kernel
/// before 5.15, which has no `bpf_get_attach_cookie` for probes and refuses
/// the object: that refusal is checked.
fn load_for_this_thread() -> Option<probes::Objects> {
    let loaded = probes::Objects::load();
    if !kernel().at_least(5, 15) {
        let err = loaded.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_kprobe"),
            "{err}"
        );
        return None;
    }
    let objs = loaded.expect("load probes.bpf.o");
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    Some(objs)
}

fn hits(objs: &probes::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

/// getpgid(0), straight to the kernel.
fn getpgid() {
    // SAFETY: getpgid has one integer argument.
    unsafe { libc::syscall(libc::SYS_getpgid, 0) };
}

/// The kernel functions ftrace can trace, from the file libbpf resolves
/// kprobe_multi patterns in (under debugfs when it is there).
fn traceable_functions() -> Vec<String> {
    let root = if Path::new("/sys/kernel/debug/tracing").exists() {
        "/sys/kernel/debug/tracing"
    } else {
        "/sys/kernel/tracing"
    };
    let text =
        std::fs::read_to_string(format!("{root}/available_filter_functions")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The address of the kernel function `name` in /proc/kallsyms.
fn kernel_address(name: &str) -> u64 {
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
    let address = kallsyms
        .lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            let address = words.next()?;
            (words.nth(1)? == name).then(|| u64::from_str_radix(address, 16).unwrap())
        })
        .unwrap_or_else(|| panic!("{name} is not in /proc/kallsyms"));
    assert_ne!(address, 0, "root sees kernel addresses");
    address
}

fn has_kprobes() -> bool {
    kernel().has(Feature::Kprobes)
}

fn assert_no_kprobes(err: &Error) {
    assert!(matches!(err, Error::Attach { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("this kernel may lack kprobe support (CONFIG_KPROBES, CONFIG_KPROBE_EVENTS)"),
        "{err}"
    );
}

#[test]
fn kprobes_and_kretprobes_count_by_cookie() {
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let p = &objs.programs;
    let entry = p.on_kprobe.attach_kprobe(&Kprobe::entry(GETPPID).cookie(3));
    let ret = p
        .on_kretprobe
        .attach_kprobe(&Kprobe::ret(GETPPID).cookie(5));
    if !has_kprobes() {
        let err = entry.unwrap_err();
        assert_no_kprobes(&err);
        assert!(
            err.to_string().starts_with(&format!(
                "attaching program `on_kprobe` to kprobe `{GETPPID}`"
            )),
            "{err}"
        );
        assert_no_kprobes(&ret.unwrap_err());
        let err = p
            .on_kretprobe
            .attach_kprobe(&Kprobe::ret(GETPPID).maxactive(8))
            .unwrap_err();
        assert_no_kprobes(&err);
        assert_eq!(err.errno(), Some(libc::ENOENT), "no kprobe_events: {err}");
        return;
    }
    let (entry, ret) = (entry.unwrap(), ret.unwrap());
    // An offset reaches the kernel: byte 1 of a function is inside its
    // first instruction, which the kernel refuses to probe.
    let err = p
        .on_kprobe
        .attach_kprobe(&Kprobe::entry(GETPPID).offset(1))
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EILSEQ), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "attaching program `on_kprobe` to kprobe `{GETPPID}+0x1`"
        )),
        "{err}"
    );
    getppid_n(4);
    assert_eq!(
        (hits(&objs, KPROBE + 3), hits(&objs, KRETPROBE + 5)),
        (4, 4)
    );

    // A kretprobe that follows at most 8 calls at once, made through
    // tracefs: it counts, and its event goes with the link.
    let bounded = p
        .on_kretprobe
        .attach_kprobe(&Kprobe::ret(GETPPID).maxactive(8).cookie(6))
        .unwrap();
    let events = || std::fs::read_to_string("/sys/kernel/tracing/kprobe_events").unwrap();
    let ours = format!("ebpf_skeleton_{}_", std::process::id());
    assert!(
        events().contains(&format!("r8:kprobes/{ours}")),
        "{}",
        events()
    );
    getppid_n(2);
    assert_eq!(hits(&objs, KRETPROBE + 6), 2);
    drop(bounded);
    assert!(!events().contains(&ours), "{}", events());
    // Perf links describe their event from 6.6.
    if kernel().at_least(6, 6) {
        let LinkDetail::PerfEvent(PerfEventDetail::Kprobe {
            retprobe,
            function,
            cookie,
            ..
        }) = entry.info().unwrap().detail
        else {
            panic!("a kprobe perf link");
        };
        assert_eq!((retprobe, function.as_str(), cookie), (false, GETPPID, 3));
    }
    // (6: the entry probe saw the bounded kretprobe's two calls too.)
    assert_eq!(hits(&objs, KPROBE + 3), 6);
    drop((entry, ret));
    getppid_n(2);
    assert_eq!(hits(&objs, KPROBE + 3), 6);
}

#[test]
fn a_set_of_kprobes_counts_each_function_by_its_cookie() {
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let p = &objs.programs;
    let symbols = [GETPPID, "__x64_sys_getpgid"];
    let multi = p
        .on_kprobe_multi
        .attach_kprobe_multi(&KprobeMulti::symbols(symbols).cookies([1, 2]));
    if !kconfig::enabled("FPROBE") {
        // Without fprobe the kernel has no kprobe_multi links.
        let err = multi.unwrap_err();
        assert_eq!(err.errno(), Some(libc::EOPNOTSUPP), "{err}");
        assert!(
            err.to_string().starts_with(&format!(
                "attaching program `on_kprobe_multi` to kprobe_multi 2 functions (`{GETPPID}`, ...)"
            )),
            "{err}"
        );
        return;
    }
    let multi = multi.unwrap();
    let ret = p
        .on_kretprobe_multi
        .attach_kprobe_multi(&KprobeMulti::symbols([GETPPID]).retprobe())
        .unwrap();
    getppid_n(3);
    getpgid();
    assert_eq!(
        [hits(&objs, KPROBE_MULTI + 1), hits(&objs, KPROBE_MULTI + 2)],
        [3, 1]
    );
    assert_eq!(hits(&objs, KRETPROBE_MULTI), 3);
    let LinkDetail::KprobeMulti { count, flags, .. } = multi.info().unwrap().detail else {
        panic!("a kprobe_multi link");
    };
    assert_eq!((count, flags), (2, 0));
    let LinkDetail::KprobeMulti { count, flags, .. } = ret.info().unwrap().detail else {
        panic!("a kprobe_multi link");
    };
    assert_eq!((count, flags), (1, 1), "one function, a return probe");

    // A glob pattern matches what the kernel lists as traceable, as libbpf
    // reads it; a pattern that matches nothing is ENOENT.
    let pattern = "__x64_sys_getpgi*";
    let matched = traceable_functions()
        .iter()
        .filter(|f| f.starts_with("__x64_sys_getpgi"))
        .count();
    let by_pattern = p
        .on_kprobe_multi
        .attach_kprobe_multi(&KprobeMulti::pattern(pattern));
    if matched == 0 {
        assert_eq!(by_pattern.unwrap_err().errno(), Some(libc::ENOENT));
    } else {
        let link = by_pattern.unwrap();
        let LinkDetail::KprobeMulti { count, .. } = link.info().unwrap().detail else {
            panic!("a kprobe_multi link");
        };
        assert_eq!(count as usize, matched);
        getpgid();
        assert_eq!(hits(&objs, KPROBE_MULTI), 1, "cookie 0: the pattern's");
    }
    // By address, as /proc/kallsyms gives it to root.
    let address = kernel_address(GETPPID);
    let by_address = p
        .on_kprobe_multi
        .attach_kprobe_multi(&KprobeMulti::addresses([address]).cookies([6]))
        .unwrap();
    getppid_n(2);
    assert_eq!(hits(&objs, KPROBE_MULTI + 6), 2);
    drop(by_address);
    let err = p
        .on_kprobe_multi
        .attach_kprobe_multi(&KprobeMulti::pattern("ebpf_skeleton_no_such_*"))
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");

    // Cookies must match the symbols one for one.
    let err = p
        .on_kprobe_multi
        .attach_kprobe_multi(&KprobeMulti::symbols(symbols).cookies([1]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("1 cookies or reference counters for 2 places"),
        "{err}"
    );
}

#[test]
fn a_kprobe_session_sees_entry_and_return() {
    let result = probe_session::Objects::load();
    if !kernel().at_least(6, 10) {
        // Before 6.10 there are no sessions: the kernel has the session
        // kfunc in neither form, and the verifier refuses the call.
        let err = result.unwrap_err();
        assert!(
            matches!(&err, Error::ProgramLoad { program, .. } if program == "on_session"),
            "{err}"
        );
        return;
    }
    if !kconfig::enabled("FPROBE") {
        // Without fprobe the program loads, and the attach is refused.
        let objs = result.unwrap();
        let err = objs
            .programs
            .on_session
            .attach_kprobe_multi(&KprobeMulti::symbols([GETPPID]).session())
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc::EOPNOTSUPP), "{err}");
        return;
    }
    let objs = result.unwrap();
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    let _link = objs
        .programs
        .on_session
        .attach_kprobe_multi(&KprobeMulti::symbols([GETPPID]).session())
        .unwrap();
    getppid_n(5);
    let hit = |slot| objs.maps.hits.get(slot).unwrap().unwrap();
    assert_eq!((hit(0), hit(1)), (5, 5));
}

#[test]
fn a_uprobe_on_a_shared_library_found_by_name() {
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let pid = std::process::id() as i32;
    let link = objs
        .programs
        .on_uprobe
        .attach_uprobe(
            &Uprobe::entry("libc.so.6")
                .function("getpid")
                .pid(pid)
                .cookie(2),
        )
        .unwrap();
    let ret = objs
        .programs
        .on_uretprobe
        .attach_uprobe(
            &Uprobe::ret("libc.so.6")
                .function("getpid")
                .pid(pid)
                .cookie(6),
        )
        .unwrap();
    for _ in 0..5 {
        // SAFETY: getpid has no arguments and cannot fail.
        unsafe { libc::getpid() };
    }
    assert_eq!(
        (hits(&objs, UPROBE + 2), hits(&objs, URETPROBE + 6)),
        (5, 5)
    );
    // Perf links describe their event from 6.6.
    if kernel().at_least(6, 6) {
        let LinkDetail::PerfEvent(PerfEventDetail::Uprobe {
            retprobe,
            path,
            cookie,
            ..
        }) = ret.info().unwrap().detail
        else {
            panic!("a uprobe perf link");
        };
        assert!(retprobe);
        assert!(path.ends_with("/libc.so.6"), "resolved to {path}");
        assert_eq!(cookie, 6);
    }
    drop((link, ret));

    let err = objs
        .programs
        .on_uprobe
        .attach_uprobe(&Uprobe::entry("libebpf_skeleton_none.so").function("f"))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("attaching program `on_uprobe` to uprobe `libebpf_skeleton_none.so:f`"),
        "{err}"
    );
}

/// The functions the uprobe_multi tests probe.
#[no_mangle]
#[inline(never)]
pub extern "C" fn probes_multi_a(x: u64) -> u64 {
    std::hint::black_box(x + 1)
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn probes_multi_b(x: u64) -> u64 {
    std::hint::black_box(x + 2)
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn probes_multi_c(x: u64) -> u64 {
    std::hint::black_box(x + 3)
}

#[test]
fn a_set_of_uprobes_by_pattern_by_symbols_and_on_return() {
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let pid = std::process::id() as i32;
    let p = &objs.programs;
    let by_name = p.on_uprobe_multi.attach_uprobe_multi(
        &UprobeMulti::symbols("/proc/self/exe", ["probes_multi_a", "probes_multi_b"])
            .cookies([1, 2])
            .pid(pid),
    );
    if !kernel().at_least(6, 6) {
        // No uprobe_multi links before 6.6.
        let err = by_name.unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert!(
            err.to_string()
                .contains("failed to attach multi-uprobe: -EINVAL"),
            "{err}"
        );
        return;
    }
    let by_name = by_name.unwrap();
    let by_pattern = p
        .on_uretprobe_multi
        .attach_uprobe_multi(
            &UprobeMulti::pattern("/proc/self/exe", "probes_multi_*")
                .retprobe()
                .pid(pid),
        )
        .unwrap();
    for i in 0..3 {
        probes_multi_a(i);
        probes_multi_b(i);
        probes_multi_c(i);
    }
    probes_multi_b(9);
    assert_eq!(
        [hits(&objs, UPROBE_MULTI + 1), hits(&objs, UPROBE_MULTI + 2)],
        [3, 4]
    );
    assert_eq!(hits(&objs, URETPROBE_MULTI), 10, "all three, on return");
    let LinkDetail::UprobeMulti {
        count,
        flags,
        pid: of,
        ..
    } = by_pattern.info().unwrap().detail
    else {
        panic!("an uprobe_multi link");
    };
    assert_eq!((count, flags, of), (3, 1, pid as u32));
    assert!(matches!(
        by_name.info().unwrap().detail,
        LinkDetail::UprobeMulti {
            count: 2,
            flags: 0,
            ..
        }
    ));
}

/// A reference counter (a USDT semaphore's kind) the uprobe tests hand
/// the kernel by file offset, in a section the file holds.
#[no_mangle]
#[link_section = ".data.probes_semaphore"]
static PROBES_SEMAPHORE: AtomicU16 = AtomicU16::new(0);

#[test]
fn uprobes_at_file_offsets_with_a_reference_counter() {
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let pid = std::process::id() as i32;
    let exe = std::fs::read_link("/proc/self/exe").unwrap();
    let offset = |name| ebpf_skeleton_tests::file_offset(&exe, name);
    let semaphore = offset("PROBES_SEMAPHORE");
    let p = &objs.programs;
    let one = p
        .on_uprobe
        .attach_uprobe(
            &Uprobe::entry(&exe)
                .offset(offset("probes_multi_c"))
                .ref_ctr_offset(semaphore)
                .pid(pid)
                .cookie(3),
        )
        .unwrap();
    assert_eq!(PROBES_SEMAPHORE.load(SeqCst), 1, "counted while attached");
    for i in 0..4 {
        probes_multi_c(i);
    }
    assert_eq!(hits(&objs, UPROBE + 3), 4);
    drop(one);
    assert_eq!(PROBES_SEMAPHORE.load(SeqCst), 0, "and no longer");

    let several = p.on_uprobe_multi.attach_uprobe_multi(
        &UprobeMulti::offsets(&exe, [offset("probes_multi_a"), offset("probes_multi_b")])
            .cookies([4, 5])
            .ref_ctr_offsets([semaphore, semaphore])
            .pid(pid),
    );
    if !kernel().at_least(6, 6) {
        // No uprobe_multi links before 6.6.
        assert_eq!(several.unwrap_err().errno(), Some(libc::EINVAL));
        return;
    }
    let several = several.unwrap();
    assert_eq!(PROBES_SEMAPHORE.load(SeqCst), 2, "once a probe");
    for i in 0..2 {
        probes_multi_a(i);
    }
    for i in 0..3 {
        probes_multi_b(i);
    }
    assert_eq!(
        [hits(&objs, UPROBE_MULTI + 4), hits(&objs, UPROBE_MULTI + 5)],
        [2, 3]
    );
    drop(several);
    assert_eq!(PROBES_SEMAPHORE.load(SeqCst), 0);
}

/// The target binary with USDT probes (tests/src/bin/usdt_target.rs).
const TARGET: &str = env!("CARGO_BIN_EXE_usdt_target");

/// Starts the target, waiting on its stdin for the go.
fn start_target(n: u64) -> std::process::Child {
    Command::new(TARGET)
        .arg(n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Lets the target fire its probes; returns how often its lazy probe was
/// enabled.
fn run_target(mut child: std::process::Child) -> u64 {
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn usdt_probes_of_a_target_process_with_cookie_and_semaphore() {
    let Some(objs) = load_for_this_thread() else {
        return;
    };
    let child = start_target(7);
    let pid = child.id() as i32;
    let tick = objs
        .programs
        .on_usdt
        .attach_usdt(
            &Usdt::new(TARGET, "ebpf_skeleton_target", "tick")
                .pid(pid)
                .cookie(4),
        )
        .unwrap();
    let lazy = objs
        .programs
        .on_usdt
        .attach_usdt(
            &Usdt::new(TARGET, "ebpf_skeleton_target", "lazy")
                .pid(pid)
                .cookie(5),
        )
        .unwrap();
    // The lazy probe's semaphore counts its attachment: enabled every time.
    assert_eq!(run_target(child), 7);
    assert_eq!((hits(&objs, USDT + 4), hits(&objs, USDT + 5)), (7, 7));
    assert_eq!(objs.bss.usdt_arg.get(), 6, "the last iteration's argument");
    drop((tick, lazy));

    // Attached for every process running the binary; without it, the
    // semaphore stays 0.
    let any = objs
        .programs
        .on_usdt
        .attach_usdt(&Usdt::new(TARGET, "ebpf_skeleton_target", "lazy"))
        .unwrap();
    assert_eq!(run_target(start_target(3)), 3);
    assert_eq!(hits(&objs, USDT), 3);
    drop(any);
    assert_eq!(run_target(start_target(3)), 0, "nothing attached");
    assert_eq!(hits(&objs, USDT), 3);
}
