//! Maps of cgroups: a cgroup array (`CgroupArray`, Linux 4.8), which Rust
//! fills and a program asks about, and cgroup local storage (`CgrpStorage`,
//! Linux 6.2), written by each side and read by the other.

use std::fs::File;

use ebpf_skeleton::{ebpf_skeleton, CgroupArray, CgrpStorage, UpdateFlags};
use ebpf_skeleton_tests::kernel::{assert_map_refused, kernel, Feature};
use ebpf_skeleton_tests::{cgroup2_root, own_cgroup, run};

ebpf_skeleton!("../bpf/cgroup_array.bpf.o");
ebpf_skeleton!("../bpf/cgrp_storage.bpf.o");

/// A cgroup v2 directory made for a test (this process is not in it),
/// removed on drop.
struct TempCgroup(std::path::PathBuf);

impl TempCgroup {
    fn new(name: &str) -> TempCgroup {
        let path = std::path::Path::new(&cgroup2_root())
            .join(format!("ebpf-skeleton-{name}-{}", std::process::id()));
        std::fs::create_dir(&path).expect("create a cgroup");
        TempCgroup(path)
    }
}

impl Drop for TempCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_program_asks_which_cgroups_of_the_array_its_task_is_under() {
    let objs = cgroup_array::Objects::load().expect("load");
    let array: &CgroupArray = &objs.maps.cgroups;
    assert_eq!(array.len(), 2);
    let other = TempCgroup::new("array");
    array.set(0, &File::open(own_cgroup()).unwrap()).unwrap();
    array.set(1, &File::open(&other.0).unwrap()).unwrap();
    run(&objs.programs.ask_under, &[]);
    assert_eq!(objs.bss.under.get(), [1, 0]);

    // An empty slot is an error to the program.
    assert!(array.remove(1).unwrap());
    assert!(!array.remove(1).unwrap());
    run(&objs.programs.ask_under, &[]);
    assert_eq!(objs.bss.under.get(), [1, -i64::from(libc::EAGAIN)]);
    // A slot past the end, and a descriptor that is no cgroup, are refused.
    let err = array
        .set(2, &File::open(own_cgroup()).unwrap())
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::E2BIG), "{err}");
    let not_a_cgroup = File::open("/proc/self/status").unwrap();
    assert!(array.set(1, &not_a_cgroup).is_err());
}

#[test]
fn cgroup_storage_between_rust_and_a_program() {
    if !kernel().has(Feature::CgrpStorage) {
        return assert_map_refused(cgrp_storage::Objects::load(), "cgrp_storage", "cgroups");
    }
    let objs = cgrp_storage::Objects::load().expect("load");
    let store: &CgrpStorage<cgrp_storage::types::Owned> = &objs.maps.cgroups;
    let cgroup = File::open(own_cgroup()).unwrap();
    let other = TempCgroup::new("storage");
    let other_dir = File::open(&other.0).unwrap();
    assert_eq!(store.get(&cgroup).unwrap(), None);

    // The program creates the entry of its task's cgroup; Rust reads it.
    run(&objs.programs.answer_in_cgroup, &[]);
    let created = store
        .get(&cgroup)
        .unwrap()
        .expect("the entry the program made");
    assert_eq!((created.from_user, created.from_prog), (0, 1));

    // Rust writes, the program reads and answers.
    let value = cgrp_storage::types::Owned {
        from_user: 1000,
        from_prog: 0,
        runs: 0,
    };
    store.insert(&cgroup, &value, UpdateFlags::EXIST).unwrap();
    run(&objs.programs.answer_in_cgroup, &[]);
    let seen = store.get(&cgroup).unwrap().unwrap();
    assert_eq!((seen.from_user, seen.from_prog, seen.runs), (1000, 1001, 1));

    // A cgroup no task of this test runs in keeps what Rust wrote.
    store
        .insert(&other_dir, &value, UpdateFlags::NO_EXIST)
        .unwrap();
    run(&objs.programs.answer_in_cgroup, &[]);
    let untouched = store.get(&other_dir).unwrap().unwrap();
    assert_eq!((untouched.from_user, untouched.from_prog), (1000, 0));
    assert!(store.remove(&other_dir).unwrap());
    assert_eq!(store.get(&other_dir).unwrap(), None);
}
