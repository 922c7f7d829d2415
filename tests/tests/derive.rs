//! `#[derive(Objects)]`: a struct naming part of an object loads only that
//! part; the kernel's own program and map lists prove it.

use ebpf_skeleton::{HashMap, LoadOptions, Objects, Program, RingBuf, Section};
use std::time::Duration;

use ebpf_skeleton_tests::{
    eventually, getppid_n, map_exists, own_maps, own_programs, program_exists, tid,
};

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

/// Names of a list of ids and names.
fn names(objects: &[(u32, String)]) -> Vec<&str> {
    objects.iter().map(|(_, name)| name.as_str()).collect()
}

// One test: the kernel frees what the first struct loaded before the
// second loads, read through this process's own descriptors.
#[test]
fn only_what_the_struct_names_is_loaded() {
    let keeper = Keeper::load().expect("load the named part");
    let (programs, maps) = (own_programs(), own_maps());
    assert!(names(&programs).contains(&"derive_keep"), "{programs:?}");
    assert!(!names(&programs).contains(&"derive_drop"), "{programs:?}");
    assert!(names(&maps).contains(&"keep_counts"), "{maps:?}");
    assert!(!names(&maps).contains(&"drop_counts"), "{maps:?}");

    // The named parts work.
    let link = keeper.derive_keep.attach().expect("attach");
    getppid_n(6);
    assert_eq!(keeper.counts.get(&tid()).unwrap(), Some(6));
    assert!(keeper.bss.kept_calls.get() >= 6);
    assert_eq!(keeper.events.capacity(), 4096);
    drop(link);
    drop(keeper);

    // The kernel frees the first struct's programs and maps once their last
    // reference goes (deferred by RCU).
    let freed = || {
        programs.iter().all(|&(id, _)| !program_exists(id))
            && maps.iter().all(|&(id, _)| !map_exists(id))
    };
    assert!(
        eventually(Duration::from_secs(5), freed),
        "{programs:?} {maps:?}"
    );

    // A struct naming only a map loads no program at all.
    let map_only =
        MapOnly::load_with(LoadOptions::new().max_entries("drop_counts", 8)).expect("load");
    assert_eq!(map_only.drop_counts.info().max_entries, 8);
    assert_eq!(own_programs(), [], "no program of the object was loaded");
    let maps = own_maps();
    assert!(names(&maps).contains(&"drop_counts"), "{maps:?}");
    assert!(!names(&maps).contains(&"keep_counts"), "{maps:?}");
}

#[test]
fn load_options_name_maps_that_exist() {
    let err = MapOnly::load_with(LoadOptions::new().max_entries("nope", 8)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "eBPF object `partial` has no map named `nope`"
    );
}
