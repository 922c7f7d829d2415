//! What users see when the kernel says no: a rejected program's verifier
//! log, a kprobe on a kernel without kprobes, a missing name.

use ebpf_skeleton::{ebpf_skeleton, Error, Kind, OpenObject};
use ebpf_skeleton_tests::getppid_n;
use ebpf_skeleton_tests::kernel::{kernel, Feature};

ebpf_skeleton!("../bpf/rejected.bpf.o");
ebpf_skeleton!("../bpf/kprobe.bpf.o");

#[test]
fn a_rejected_program_carries_the_verifier_log() {
    let err = rejected::Objects::load().unwrap_err();
    let Error::ProgramLoad {
        object,
        program,
        log,
        ..
    } = &err
    else {
        panic!("expected a program load error, got {err}");
    };
    assert_eq!(
        (object.as_str(), program.as_str()),
        ("rejected", "unchecked_lookup")
    );
    assert_eq!(err.errno(), Some(libc::EACCES));
    // The verifier's own words on the NULL dereference.
    assert!(
        log.contains("invalid mem access 'map_value_or_null'"),
        "log:\n{log}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("the verifier rejected program `unchecked_lookup` of object `rejected`"),
        "{text}"
    );
    assert!(text.contains("--- verifier log ---"), "{text}");
}

#[test]
fn a_kprobe_counts_or_fails_to_attach_with_a_clear_error() {
    // A kprobe program loads on every kernel; attaching needs one built
    // with kprobes (the VM kernels are, this project's host is not).
    let objs = kprobe::Objects::load().expect("a kprobe program loads");
    if kernel().has(Feature::Kprobes) {
        let links = objs.attach().expect("attach the kprobe of its section");
        getppid_n(3);
        // Every thread's getppid(2) counts, others' may add to ours.
        let hits = objs.maps.hits.get(0).unwrap().unwrap();
        assert!(hits >= 3, "the kprobe saw {hits} calls");
        return drop(links);
    }
    let err = objs.attach().unwrap_err();
    let Error::Attach {
        program, target, ..
    } = &err
    else {
        panic!("expected an attach error, got {err}");
    };
    assert_eq!(
        (program.as_str(), target.as_str()),
        (
            "probe_getppid",
            "the hook of its section `kprobe/__x64_sys_getppid`"
        )
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "attaching program `probe_getppid` to the hook of its section `kprobe/__x64_sys_getppid`: "
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "this kernel may lack kprobe support (CONFIG_KPROBES, CONFIG_KPROBE_EVENTS)"
        ),
        "{text}"
    );
}

#[test]
fn names_missing_from_an_object_are_errors_naming_them() {
    let open = OpenObject::from_static("kprobe", kprobe::bytes()).unwrap();
    let err = open.program_spec("nope").unwrap_err();
    assert!(matches!(
        err,
        Error::NotFound {
            kind: Kind::Program,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "eBPF object `kprobe` has no program named `nope`"
    );
    let err = open.map_spec("nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "eBPF object `kprobe` has no map named `nope`"
    );
}

#[test]
fn a_corrupt_object_fails_to_open_with_an_error() {
    static GARBAGE: [u8; 64] = [0x7f; 64];
    let err = OpenObject::from_static("garbage", &GARBAGE).unwrap_err();
    assert!(matches!(err, Error::Open { .. }), "{err}");
    // What libbpf said, not a bare code.
    assert_eq!(
        err.to_string(),
        "opening eBPF object `garbage`\n  libbpf: elf: 'garbage' is not a proper ELF object"
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(!source.contains("Unknown error"), "{source}");
}

#[test]
fn objects_open_from_files_too() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/counter.bpf.o");
    let open = OpenObject::from_file(path).unwrap();
    assert_eq!(open.name(), "counter");
    assert_eq!(open.program_names(), ["count_getppid", "count_getppid_raw"]);
    let objs = open.load().unwrap();
    assert!(objs.program("count_getppid").unwrap().is_loaded());
    assert_eq!(objs.map("counts").unwrap().info().max_entries, 1024);
}

/// Runs in two processes: as root it starts itself again as `nobody`, and
/// the unprivileged copy checks that opening needs no privileges and that
/// loading says what is missing.
#[test]
fn specs_open_unprivileged_and_load_says_what_is_missing() {
    const CHILD: &str = "EBPF_SKELETON_UNPRIVILEGED_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // SAFETY: a plain query.
        assert_ne!(unsafe { libc::geteuid() }, 0, "the child runs unprivileged");
        let specs = kprobe::Specs::new().expect("opening needs no privileges");
        assert_eq!(
            specs.programs.probe_getppid.section(),
            "kprobe/__x64_sys_getppid"
        );
        let err = specs.load().unwrap_err();
        assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
        // The hint names what a kprobe object needs, and only that.
        let text = err.to_string();
        assert!(
            text.contains(
                "loading this object needs root or CAP_BPF and CAP_PERFMON; \
                 this process lacks CAP_BPF and CAP_PERFMON"
            ),
            "{text}"
        );
        assert!(!text.contains("CAP_NET_ADMIN"), "{text}");
        return;
    }
    use std::os::unix::process::CommandExt;
    // A copy in the temporary directory, which `nobody` can reach wherever
    // the build directory is (the objects are embedded, nothing else needed).
    let copy =
        std::env::temp_dir().join(format!("ebpf-skeleton-unprivileged-{}", std::process::id()));
    ebpf_skeleton_tests::copy_executable(&std::env::current_exe().unwrap(), &copy);
    let output = std::process::Command::new(&copy)
        .args([
            "--exact",
            "specs_open_unprivileged_and_load_says_what_is_missing",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .uid(65534)
        .gid(65534)
        .output()
        .expect("start the unprivileged copy");
    std::fs::remove_file(&copy).ok();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("1 passed"), "{text}");
}
