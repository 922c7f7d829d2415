//! The foundation end to end: a skeleton of `counter.bpf.o` loads, attaches
//! by section, and the kernel's counts come back through the byte map API.

use std::time::Duration;

use ebpf_skeleton::{ebpf_skeleton, Error, HashMap, UpdateFlags};
use ebpf_skeleton_tests::{eventually, getppid_n, map_exists, program_exists, tid, u64_value};

ebpf_skeleton!("../bpf/counter.bpf.o");

fn count_of(map: &HashMap<u32, u64>, tid: u32) -> u64 {
    map.get(&tid).expect("lookup").unwrap_or(0)
}

#[test]
fn tracepoint_counts_getppid_calls() {
    let objs = counter::Objects::load().expect("load counter.bpf.o");
    let links = objs.attach().expect("attach");
    let mut attached: Vec<_> = links.iter().map(|l| l.program()).collect();
    attached.sort();
    assert_eq!(attached, ["count_getppid", "count_getppid_raw"]);

    getppid_n(37);
    assert_eq!(count_of(&objs.maps.counts, tid()), 37);
    assert_eq!(count_of(&objs.maps.raw_counts, tid()), 37);

    // Detached: further calls are not counted.
    drop(links);
    getppid_n(5);
    assert_eq!(count_of(&objs.maps.counts, tid()), 37);
}

#[test]
fn one_program_attaches_by_itself() {
    let objs = counter::Objects::load().expect("load");
    let link = objs
        .programs
        .count_getppid
        .attach()
        .expect("attach one program");
    assert_eq!(link.program(), "count_getppid");
    getppid_n(3);
    assert_eq!(count_of(&objs.maps.counts, tid()), 3);
    assert_eq!(
        count_of(&objs.maps.raw_counts, tid()),
        0,
        "the raw program was not attached"
    );
}

#[test]
fn autoload_off_leaves_a_program_out() {
    let mut specs = counter::Specs::new().expect("open");
    assert_eq!(
        specs.programs.count_getppid_raw.section(),
        "raw_tp/sys_enter"
    );
    specs.programs.count_getppid_raw.autoload = false;
    let objs = specs.load().expect("load");
    assert!(objs.programs.count_getppid.is_loaded());
    assert!(!objs.programs.count_getppid_raw.is_loaded());
    assert!(matches!(
        objs.programs.count_getppid_raw.fd(),
        Err(Error::NotLoaded { .. })
    ));

    // attach() skips the program that is not loaded.
    let links = objs.attach().expect("attach");
    assert_eq!(links.len(), 1);
    getppid_n(4);
    assert_eq!(count_of(&objs.maps.counts, tid()), 4);
}

#[test]
fn max_entries_set_before_load_reaches_the_kernel() {
    let mut specs = counter::Specs::new().expect("open");
    assert_eq!(specs.maps.counts.max_entries, 1024);
    assert_eq!(
        (specs.maps.counts.key_size(), specs.maps.counts.value_size()),
        (4, 8)
    );
    specs.maps.counts.max_entries = 2;
    let objs = specs.load().expect("load");
    let counts = &objs.maps.counts;
    assert_eq!(counts.info().max_entries, 2);

    // The kernel enforces it: a third key does not fit.
    for key in [1u32, 2] {
        counts.insert(&key, &9, UpdateFlags::ANY).unwrap();
    }
    let err = counts.insert(&3, &9, UpdateFlags::ANY).unwrap_err();
    assert_eq!(err.errno(), Some(libc::E2BIG), "{err}");
    assert!(err.to_string().contains("map `counts`"), "{err}");
}

#[test]
fn byte_map_api_round_trips() {
    let objs = counter::Objects::load().expect("load");
    // The byte-level map under the typed one.
    let map = objs.maps.counts.map();
    let (k1, k2) = (11u32.to_ne_bytes(), 22u32.to_ne_bytes());
    assert_eq!(map.lookup(&k1).unwrap(), None);

    map.update(&k1, &100u64.to_ne_bytes(), UpdateFlags::NO_EXIST)
        .unwrap();
    map.update(&k2, &200u64.to_ne_bytes(), UpdateFlags::ANY)
        .unwrap();
    let again = map
        .update(&k1, &1u64.to_ne_bytes(), UpdateFlags::NO_EXIST)
        .unwrap_err();
    assert_eq!(again.errno(), Some(libc::EEXIST));
    let missing = map.update(
        &33u32.to_ne_bytes(),
        &1u64.to_ne_bytes(),
        UpdateFlags::EXIST,
    );
    assert_eq!(missing.unwrap_err().errno(), Some(libc::ENOENT));

    assert_eq!(map.lookup(&k1).unwrap().map(|v| u64_value(&v)), Some(100));
    let mut keys: Vec<u32> = map
        .keys()
        .map(|k| u32::from_ne_bytes(k.unwrap().try_into().unwrap()))
        .collect();
    keys.sort();
    assert_eq!(keys, [11, 22]);

    assert!(map.delete(&k1).unwrap());
    assert!(!map.delete(&k1).unwrap());
    assert_eq!(map.keys().count(), 1);

    // Wrong sizes are refused before the kernel sees them.
    let err = map.lookup(&[1, 2]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Size {
                expected: 4,
                actual: 2,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "lookup on map `counts`: the key is 2 bytes, the map's keys are 4"
    );
}

#[test]
fn dropping_the_objects_releases_programs_and_maps() {
    let objs = counter::Objects::load().expect("load");
    let prog_id = objs.programs.count_getppid.id().unwrap();
    let map_id = objs.maps.counts.info().id;
    assert!(program_exists(prog_id) && map_exists(map_id));

    // A link keeps its program alive even when the objects are gone.
    let link = objs.programs.count_getppid.attach().unwrap();
    drop(objs);
    assert!(program_exists(prog_id));
    getppid_n(1);

    drop(link);
    assert!(eventually(Duration::from_secs(5), || !program_exists(
        prog_id
    )));
    assert!(eventually(Duration::from_secs(5), || !map_exists(map_id)));
}

#[test]
fn specs_open_without_touching_the_kernel() {
    let specs = counter::Specs::new().expect("open");
    assert_eq!(counter::NAME, "counter");
    assert_eq!(
        specs.programs.count_getppid.section(),
        "tp/syscalls/sys_enter_getppid"
    );
    assert!(specs.programs.count_getppid.autoload);
    assert_eq!(
        specs.maps.raw_counts.map_type(),
        ebpf_skeleton::MapType::HASH
    );
    // The map fields are typed from BTF: `counts` is a hash of u32 to u64.
    fn typed(_: &HashMap<u32, u64>) {}
    let _ = |objs: &counter::Objects| typed(&objs.maps.counts);
    assert_eq!(
        counter::bytes().as_ptr() as usize % 8,
        0,
        "embedded bytes are 8-byte aligned"
    );
}

#[test]
fn a_map_left_uncreated_is_a_clear_error_for_the_skeleton() {
    // The skeleton holds every map; one not created cannot be a field.
    let mut specs = counter::Specs::new().expect("open");
    specs.programs.count_getppid_raw.autoload = false;
    specs.maps.raw_counts.autocreate = false;
    match specs.load() {
        Err(Error::NotCreated { map, .. }) => assert_eq!(map, "raw_counts"),
        other => panic!("expected NotCreated, got {other:?}"),
    }
    // The object API opens the maps that were created.
    let mut open = ebpf_skeleton::OpenObject::from_static("counter", counter::bytes()).unwrap();
    let mut spec = open.map_spec("raw_counts").unwrap();
    spec.autocreate = false;
    open.apply_map(&spec).unwrap();
    let mut prog = open.program_spec("count_getppid_raw").unwrap();
    prog.autoload = false;
    open.apply_program(&prog).unwrap();
    let object = open.load().expect("load without raw_counts");
    assert!(object.map("counts").is_ok());
    assert_eq!(
        object.map("raw_counts").unwrap_err().to_string(),
        "map `raw_counts` was not created (its autocreate was off)"
    );
}
