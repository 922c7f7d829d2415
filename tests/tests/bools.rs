//! C `bool` globals are Rust `bool`s (tests/bpf/bools.bpf.c): set before
//! load (`specs.rodata.verbose = true`), read and written live, and a byte
//! the program leaves at 2 still reads, as `true`.

use ebpf_skeleton::{ebpf_skeleton, LoadOptions, Objects, Program, Section};
use ebpf_skeleton_tests::{getppid_n, tid};

ebpf_skeleton!("../bpf/bools.bpf.o");

#[test]
fn bool_globals_are_bools_before_and_after_load() {
    let mut specs = bools::Specs::new().expect("open");
    // A program of a `?` section is there, not loaded unless asked.
    assert!(!specs.programs.copy_bools_later.autoload);
    assert_eq!(
        specs.programs.copy_bools_later.section(),
        "tp/syscalls/sys_enter_getppid"
    );
    // The object's own initial values, as bools.
    assert!(!specs.rodata.verbose);
    assert!(specs.data.enabled);
    assert_eq!(specs.bss.flags, [false; 3]);
    specs.rodata.verbose = true;
    specs.rodata.target_tid = tid();
    let objs = specs.load().expect("load");
    let _links = objs.attach().expect("attach");

    getppid_n(1);
    assert_eq!(objs.bss.calls.get(), 1);
    assert!(objs.rodata.verbose.get(), "the constant set before load");
    assert!(objs.bss.seen_verbose.get(), "what the program saw");
    assert!(objs.bss.seen_enabled.get());
    assert_eq!(objs.bss.flags.get(), [false, true, false]);
    // The program stored 2: still a bool in Rust, and true.
    assert!(objs.bss.odd.get());

    // A bool user space writes, which the program reads.
    objs.data.enabled.set(false);
    getppid_n(2);
    assert!(!objs.bss.seen_enabled.get());
    assert_eq!(objs.bss.flags.get(), [true, true, true]);
    assert_eq!(objs.bss.calls.get(), 3);
}

#[derive(Objects)]
#[ebpf(object = "../bpf/bools.bpf.o")]
struct Copier {
    copy_bools: Program,
    bss: Section<bools::BssView>,
}

#[test]
fn bool_globals_are_set_by_name_with_bools() {
    let options = LoadOptions::new()
        .global("verbose", &true)
        .global("enabled", &false)
        .global("target_tid", &tid());
    let copier = Copier::load_with(options).expect("load");
    let _link = copier.copy_bools.attach().expect("attach");
    getppid_n(1);
    assert!(copier.bss.seen_verbose.get());
    assert!(!copier.bss.seen_enabled.get());

    // Without a skeleton, on the open object.
    let mut open = ebpf_skeleton::OpenObject::from_static("bools", bools::bytes()).unwrap();
    open.set_global("verbose", &true).unwrap();
    let err = open.set_global("verbose", &1u32).unwrap_err();
    assert_eq!(
        err.to_string(),
        "set the global variable on map `.rodata:verbose`: the value is 4 bytes, the map's values are 1"
    );
}
