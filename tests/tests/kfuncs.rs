//! kfuncs and ksyms (tests/bpf/kfuncs.bpf.c): an object calling kernel
//! functions and reading kernel variables expands with each of the three
//! macros, loads (libbpf resolves `.ksyms` against the kernel's BTF and
//! kallsyms, weak symbols the kernel lacks to 0), and runs: each of the
//! test thread's getppid(2) calls is counted with what the kfuncs and
//! ksyms gave the program.
//!
//! A typed ksym (`runqueues`, in `on_getppid_percpu`) loads
//! only on a kernel whose kallsyms lists variables (CONFIG_KALLSYMS_ALL):
//! the verifier looks their addresses up there. On any other kernel the
//! load fails with the verifier's exact words, which is tested instead.

use ebpf_skeleton::{ebpf_skeleton, HashMap, LoadOptions, Objects, Program, Section};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::{getppid_n, kallsyms_address, tid};

ebpf_skeleton!("../bpf/kfuncs.bpf.o");

/// The part of the object the derive loads.
#[derive(Objects, Debug)]
#[ebpf(object = "../bpf/kfuncs.bpf.o")]
struct Kfuncs {
    on_getppid: Program,
    cpus: HashMap<u32, u64>,
    bss: Section<kfuncs::BssView>,
}

/// The report, as a struct of one's own checked against the object's BTF.
#[ebpf_skeleton::layout(object = "../bpf/kfuncs.bpf.o", btf = "report")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Report {
    calls: u64,
    tasks_found: u64,
    text_addr: u64,
    task_tgid: i32,
    percpu_calls: u32,
    rq_cpu_matches: u32,
    cpumask_hits: u32,
    weak_kfunc_present: u32,
    weak_var_present: u32,
}

/// Whether this kernel's kallsyms lists variables, as typed ksyms need.
fn kallsyms_has_variables() -> bool {
    kallsyms_address("runqueues").is_some()
}

/// Every call was counted by `on_getppid` with what the kfuncs and the
/// typeless and weak ksyms gave.
fn check(report: &Report, calls: u64) {
    assert_eq!(report.calls, calls, "{report:?}");
    assert_eq!(report.tasks_found, calls, "bpf_task_from_pid: {report:?}");
    assert_eq!(report.task_tgid as u32, std::process::id());
    assert_eq!(u64::from(report.cpumask_hits), calls, "bpf_cpumask_*");
    assert_eq!(report.weak_kfunc_present, 0, "a weak kfunc no kernel has");
    assert_eq!(report.weak_var_present, 0, "a weak ksym no kernel has");
    assert_eq!(Some(report.text_addr), kallsyms_address("_text"));
}

/// Every call was counted by `on_getppid_percpu`, whose typed ksym was
/// the current CPU's.
fn check_percpu(report: &Report, calls: u64) {
    assert_eq!(u64::from(report.percpu_calls), calls, "{report:?}");
    assert_eq!(u64::from(report.rq_cpu_matches), calls, "runqueues");
}

/// The skeleton's report, as the `#[layout]` struct (same bytes).
fn as_report(report: kfuncs::types::Report) -> Report {
    let bytes = ebpf_skeleton::Pod::as_bytes(&report);
    <Report as ebpf_skeleton::Pod>::read_from_bytes(bytes).expect("same size")
}

/// On a kernel without the object's kfuncs (before 6.3), checks that
/// `loaded` is libbpf's refusal, naming the first kfunc in its order that
/// the kernel lacks, and returns `true`.
fn refused_without_kfuncs<T: std::fmt::Debug>(loaded: &ebpf_skeleton::Result<T>) -> bool {
    if kernel().has(Feature::CpumaskKfuncs) {
        return false;
    }
    match loaded {
        Err(
            err @ ebpf_skeleton::Error::Load {
                object, details, ..
            },
        ) => {
            assert_eq!(object, "kfuncs");
            assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
            assert_eq!(
                details,
                "libbpf: extern (func ksym) 'bpf_cpumask_create': not found in kernel or module BTFs"
            );
        }
        other => panic!("kernel {} loaded kfuncs.bpf.o: {other:?}", kernel().release),
    }
    true
}

/// Sums what `cpus` counted over every CPU.
fn counted_on_cpus(cpus: &HashMap<u32, u64>) -> u64 {
    cpus.iter().map(|entry| entry.expect("read cpus").1).sum()
}

#[test]
fn the_skeleton_loads_kfuncs_and_ksyms_and_runs_them() {
    let mut specs = kfuncs::Specs::new().expect("open");
    specs.rodata.target_tid = tid();
    // Typed ksyms are tested on their own below.
    specs.programs.on_getppid_percpu.autoload = false;
    let loaded = specs.load();
    if refused_without_kfuncs(&loaded) {
        return;
    }
    let objs = loaded.expect("load: libbpf resolves every ksym");
    let _links = objs.attach().expect("attach");
    getppid_n(25);
    let report = as_report(objs.bss.report.get());
    check(&report, 25);
    check_percpu(&report, 0);
    assert_eq!(
        counted_on_cpus(&objs.maps.cpus),
        25,
        "each call counted on its CPU"
    );
}

#[test]
fn typed_ksyms_are_the_current_cpus_where_kallsyms_lists_variables() {
    let mut specs = kfuncs::Specs::new().expect("open");
    specs.rodata.target_tid = tid();
    specs.programs.on_getppid.autoload = false;
    let loaded = specs.load();
    if refused_without_kfuncs(&loaded) {
        return;
    }
    if kallsyms_has_variables() {
        let objs = loaded.expect("load typed ksyms");
        let _links = objs.attach().expect("attach");
        getppid_n(14);
        let report = as_report(objs.bss.report.get());
        check_percpu(&report, 14);
        assert_eq!(report.calls, 0, "on_getppid was left out");
        return;
    }
    // The kernel keeps no variables in kallsyms: the verifier cannot place
    // `runqueues` and refuses the program, saying so.
    match loaded {
        Err(ebpf_skeleton::Error::ProgramLoad {
            program,
            source,
            log,
            ..
        }) => {
            assert_eq!(program, "on_getppid_percpu");
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
            assert!(
                log.starts_with(
                    "ldimm64 failed to find the address for kernel symbol 'runqueues'."
                ),
                "{log}"
            );
        }
        other => panic!("expected the verifier to refuse typed ksyms, got {other:?}"),
    }
}

#[test]
fn the_derive_loads_kfuncs_and_ksyms_and_runs_them() {
    let options = LoadOptions::new().global("target_tid", &tid());
    let loaded = Kfuncs::load_with(options);
    if refused_without_kfuncs(&loaded) {
        return;
    }
    let part = loaded.expect("load the derive's part");
    let _link = part.on_getppid.attach().expect("attach");
    getppid_n(9);
    check(&as_report(part.bss.report.get()), 9);
    assert_eq!(counted_on_cpus(&part.cpus), 9);
}
