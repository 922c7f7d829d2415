//! `#[derive(Objects)]`: a struct naming part of an object loads only that
//! part; the kernel's own program and map lists prove it.

use ebpf_skeleton::{HashMap, LoadOptions, Objects, Program, RingBuf, Section};
use std::time::Duration;

use ebpf_skeleton_tests::{eventually, getppid_n, kernel_map_names, kernel_program_names, tid};

// The generated view of `.bss`, for the struct's section field.
ebpf_skeleton::ebpf_skeleton!("../bpf/partial.bpf.o");

#[derive(Objects)]
#[ebpf(object = "../bpf/partial.bpf.o")]
struct Keeper {
    derive_keep: Program,
    #[ebpf(name = "keep_counts")]
    counts: HashMap<u32, u64>,
    events: RingBuf,
    bss: Section<partial::BssView>,
}

#[derive(Objects, Debug)]
#[ebpf(object = "../bpf/partial.bpf.o")]
struct MapOnly {
    drop_counts: HashMap<u32, u64>,
}

// One test: the assertions read the whole kernel's lists, which another
// test loading the same object at the same time would disturb.
#[test]
fn only_what_the_struct_names_is_loaded() {
    let keeper = Keeper::load().expect("load the named part");
    let programs = kernel_program_names();
    let maps = kernel_map_names();
    assert!(programs.iter().any(|p| p == "derive_keep"), "{programs:?}");
    assert!(!programs.iter().any(|p| p == "derive_drop"), "{programs:?}");
    assert!(maps.iter().any(|m| m == "keep_counts"), "{maps:?}");
    assert!(!maps.iter().any(|m| m == "drop_counts"), "{maps:?}");

    // The named parts work.
    let link = keeper.derive_keep.attach().expect("attach");
    getppid_n(6);
    assert_eq!(keeper.counts.get(&tid()).unwrap(), Some(6));
    assert!(keeper.bss.kept_calls.get() >= 6);
    assert_eq!(keeper.events.capacity(), 4096);
    drop(link);
    drop(keeper);

    // The kernel frees the first struct's program and map once their last
    // reference goes (deferred by RCU).
    let derive_programs = || {
        kernel_program_names()
            .iter()
            .filter(|p| p.starts_with("derive_"))
            .count()
    };
    assert!(eventually(Duration::from_secs(5), || derive_programs() == 0));
    let gone = || !kernel_map_names().iter().any(|m| m == "keep_counts");
    assert!(eventually(Duration::from_secs(5), gone));

    // A struct naming only a map loads no program at all.
    let map_only =
        MapOnly::load_with(LoadOptions::new().max_entries("drop_counts", 8)).expect("load");
    assert_eq!(map_only.drop_counts.info().max_entries, 8);
    assert_eq!(derive_programs(), 0, "no program of the object was loaded");
    assert!(kernel_map_names().iter().any(|m| m == "drop_counts"));
    assert!(!kernel_map_names().iter().any(|m| m == "keep_counts"));
}

#[test]
fn load_options_name_maps_that_exist() {
    let err = MapOnly::load_with(LoadOptions::new().max_entries("nope", 8)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "eBPF object `partial` has no map named `nope`"
    );
}
