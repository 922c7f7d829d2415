//! An object with many map kinds and program sections expands, loads and
//! attaches; every attached program is shown to run by what it counted.

use std::collections::BTreeSet;

use ebpf_skeleton::{ebpf_skeleton, Error, MapType, UpdateFlags};
use ebpf_skeleton_tests::kernel::{assert_map_refused, kernel, Feature};
use ebpf_skeleton_tests::{getppid_n, tid, u64_value};

ebpf_skeleton!("../bpf/everything.bpf.o");

/// Slots of `hits`, as in everything.bpf.c.
const SLOTS: [&str; 5] = ["tp", "raw_tp", "tp_btf", "uprobe", "iter_self"];

/// The function `on_uprobe_target` probes, by its section
/// `uprobe//proc/self/exe:everything_uprobe_target`.
#[no_mangle]
#[inline(never)]
pub extern "C" fn everything_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x + 1)
}

fn read_iterator(link: &ebpf_skeleton::Link) {
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: a plain syscall wrapper on a live link fd.
    let fd = unsafe {
        ebpf_skeleton::libbpf_sys::bpf_iter_create(
            link.fd()
                .expect("an iterator link has a descriptor")
                .as_raw_fd(),
        )
    };
    assert!(
        fd >= 0,
        "bpf_iter_create: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: the kernel just returned this fd to us.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let mut out = Vec::new();
    file.read_to_end(&mut out).unwrap();
}

/// Loads everything.bpf.o; `None` on a kernel without bloom filters
/// (before 5.16), after checking its refusal: an object of every map kind
/// is refused at the first kind the kernel lacks.
fn load() -> Option<everything::Objects> {
    if !kernel().has(Feature::BloomFilter) {
        assert_map_refused(everything::Objects::load(), "everything", "bloom");
        return None;
    }
    Some(everything::Objects::load().expect("load everything.bpf.o"))
}

#[test]
fn every_map_kind_is_a_field_with_its_kernel_type() {
    let Some(objs) = load() else { return };
    let maps = &objs.maps;
    let expected = [
        (maps.r#type.map(), MapType::HASH),
        (maps.self_.map(), MapType::HASH),
        (maps.percpu_hash.map(), MapType::PERCPU_HASH),
        (maps.percpu_array.map(), MapType::PERCPU_ARRAY),
        (maps.lru_hash.map(), MapType::LRU_HASH),
        (maps.lru_percpu_hash.map(), MapType::LRU_PERCPU_HASH),
        (maps.routes.map(), MapType::LPM_TRIE),
        (maps.queue.map(), MapType::QUEUE),
        (maps.stack.map(), MapType::STACK),
        (maps.bloom.map(), MapType::BLOOM_FILTER),
        (maps.jump_table.map(), MapType::PROG_ARRAY),
        (maps.array_of_maps.map(), MapType::ARRAY_OF_MAPS),
        (maps.hash_of_maps.map(), MapType::HASH_OF_MAPS),
        (maps.stacks.map(), MapType::STACK_TRACE),
        (maps.ring.map(), MapType::RINGBUF),
        (maps.perf.map(), MapType::PERF_EVENT_ARRAY),
        (maps.sk_storage.map(), MapType::SK_STORAGE),
        (maps.task_storage.map(), MapType::TASK_STORAGE),
        (maps.devmap.map(), MapType::DEVMAP),
        (maps.cpumap.map(), MapType::CPUMAP),
        (maps.sockmap.map(), MapType::SOCKMAP),
        (maps.xsks.map(), MapType::XSKMAP),
    ];
    for (map, kind) in expected {
        assert_eq!(map.map_type(), kind, "map `{}`", map.name());
    }
    assert_eq!(maps.r#type.name(), "type");
    assert_eq!(maps.self_.name(), "self");
}

#[test]
fn attach_hooks_every_program_that_names_its_hook_and_each_runs() {
    let Some(objs) = load() else { return };
    let links = objs.attach().expect("attach");
    let attached: BTreeSet<_> = links.iter().map(|l| l.program()).collect();
    let expected: BTreeSet<_> = [
        "on_tp",
        "on_raw_tp",
        "on_tp_btf",
        "on_uprobe_target",
        "loop",
    ]
    .into();
    assert_eq!(attached, expected);

    // The programs without a hook of their own loaded but were skipped.
    for p in [
        &objs.programs.xdp_pass,
        &objs.programs.tc_pass,
        &objs.programs.socket_filter,
        &objs.programs.on_perf_event,
        &objs.programs.on_uprobe,
        &objs.programs.cgroup_ingress,
    ] {
        assert!(p.is_loaded(), "{}", p.name());
    }

    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    getppid_n(5);
    for x in 0..3 {
        everything_uprobe_target(x);
    }
    read_iterator(links.iter().find(|l| l.program() == "loop").unwrap());

    let hits: Vec<u64> = (0..SLOTS.len() as u32)
        .map(|slot| objs.maps.hits.get(slot).unwrap().unwrap())
        .collect();
    assert_eq!(hits, [5, 5, 5, 3, 1], "slots {SLOTS:?}");
}

#[test]
fn a_program_without_a_hook_says_so() {
    let Some(objs) = load() else { return };
    let err = objs.programs.xdp_pass.attach().unwrap_err();
    assert!(matches!(err, Error::NoHook { .. }));
    assert_eq!(
        err.to_string(),
        "program `xdp_pass` cannot attach by itself: its section `xdp` names no hook \
         (attach it with an explicit target, e.g. an interface, a cgroup or a perf event)"
    );
    let err = objs.programs.on_uprobe.attach().unwrap_err();
    assert!(
        err.to_string().contains("section `uprobe` names no hook"),
        "{err}"
    );
}

#[test]
fn queue_and_stack_through_the_byte_api() {
    let Some(objs) = load() else { return };
    let (queue, stack) = (objs.maps.queue.map(), objs.maps.stack.map());
    for v in [1u64, 2, 3] {
        queue
            .update(&[], &v.to_ne_bytes(), UpdateFlags::ANY)
            .unwrap();
        stack
            .update(&[], &v.to_ne_bytes(), UpdateFlags::ANY)
            .unwrap();
    }
    let pop = |m: &ebpf_skeleton::Map| m.lookup_and_delete(&[]).unwrap().map(|v| u64_value(&v));
    assert_eq!([pop(queue), pop(queue)], [Some(1), Some(2)]);
    assert_eq!([pop(stack), pop(stack)], [Some(3), Some(2)]);
}

#[test]
fn per_cpu_values_span_every_possible_cpu() {
    let Some(objs) = load() else { return };
    let map = objs.maps.percpu_array.map();
    let cpus = ebpf_skeleton::possible_cpus().unwrap();
    assert_eq!(map.value_buffer_size(), 8 * cpus);
    let values: Vec<u8> = (0..cpus as u64)
        .flat_map(|c| (c + 10).to_ne_bytes())
        .collect();
    map.update(&1u32.to_ne_bytes(), &values, UpdateFlags::ANY)
        .unwrap();
    assert_eq!(map.lookup(&1u32.to_ne_bytes()).unwrap().unwrap(), values);
}
