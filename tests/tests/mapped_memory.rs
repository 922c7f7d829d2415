//! Maps user space reads and writes where they lie: mmap-able arrays
//! (`MappedArray`, Linux 5.5) and arenas (`Arena`, Linux 6.9). Each side
//! writes what the other reads, through cells accessed atomically, with no
//! system call on the Rust side.

use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use ebpf_skeleton::{
    ebpf_skeleton, Arena, Array, Error, Map, MappedArray, Objects, Program, UpdateFlags,
};
use ebpf_skeleton_tests::kernel::{assert_map_refused, kernel, Feature};
use ebpf_skeleton_tests::run;

ebpf_skeleton!("../bpf/mapped_array.bpf.o");
ebpf_skeleton!("../bpf/arena.bpf.o", types = [shared]);

use mapped_array::types::Triple;

#[test]
fn a_mapped_array_between_rust_and_a_program() {
    let objs = mapped_array::Objects::load().expect("load");
    // The skeleton gives mmap-able arrays as arrays, with a mapped view.
    let array: &Array<Triple> = &objs.maps.slots;
    let slots = array.mapped().expect("map the array");
    assert_eq!(slots.len(), 600);
    for (i, cell) in slots.cells().enumerate() {
        cell.set(Triple {
            from_user: 3 * i as u32,
            from_prog: 0,
            index: 0,
        });
    }
    run(&objs.programs.answer_slots, &[]);
    // Every slot, across the pages of the mapping (16-byte strides).
    for i in 0..600 {
        let seen = slots.get(i).unwrap();
        assert_eq!(
            (seen.from_user, seen.from_prog, seen.index),
            (3 * i, 3 * i + 1, i)
        );
    }
    assert!(slots.get(600).is_none());
    assert_eq!(
        slots.set(600, Triple::default()).unwrap_err().errno(),
        Some(libc::E2BIG)
    );

    // A system call's write shows in the mapping, and the other way round.
    let value = Triple {
        from_user: 7,
        from_prog: 8,
        index: 9,
    };
    objs.maps.slots.set(599, &value, UpdateFlags::ANY).unwrap();
    assert_eq!(slots.get(599).unwrap(), value);
    slots.set(3, value).unwrap();
    assert_eq!(objs.maps.slots.get(3).unwrap(), Some(value));
}

#[test]
fn a_mapped_counter_counts_both_sides_atomically() {
    let objs = mapped_array::Objects::load().expect("load");
    let counters = objs.maps.counters.mapped().unwrap();
    let counter = counters.cell(0).unwrap().atomic();
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..2000 {
                run(&objs.programs.count, &[]);
            }
        });
        for _ in 0..2000 {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), 4000);
    assert_eq!(objs.maps.counters.get(0).unwrap(), Some(4000));
    assert_eq!(counters.get(1), Some(0));
}

#[test]
fn an_array_without_mmapable_is_not_mapped() {
    let objs = mapped_array::Objects::load().expect("load");
    let err = objs.maps.plain.mapped().unwrap_err();
    assert!(matches!(err, Error::Map { op: "mmap", .. }), "{err}");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("BPF_F_MMAPABLE"), "{source}");
}

/// The derive takes a mapped array as a field of its own.
#[derive(Objects)]
#[ebpf(object = "../bpf/mapped_array.bpf.o")]
struct Counting {
    counters: MappedArray<u64>,
    count: Program,
}

#[test]
fn a_derived_field_is_a_mapped_array() {
    let objs = Counting::load().expect("load");
    run(&objs.count, &[]);
    run(&objs.count, &[]);
    assert_eq!(objs.counters.get(0), Some(2));
}

#[test]
fn an_arena_global_between_rust_and_a_program() {
    if !kernel().has(Feature::Arena) {
        return assert_map_refused(arena::Objects::load(), "arena", "arena");
    }
    let objs = arena::Objects::load().expect("load");
    let arena: &Arena = &objs.maps.arena;
    assert_eq!(arena.len(), 4 * 4096);
    let publish = &objs.programs.publish;
    assert_eq!(publish.test_run(None).unwrap(), 0);

    // The program's pointer is an address in this process's mapping.
    let global = arena
        .offset_of(objs.bss.global_addr.get())
        .expect("the arena global lies in the arena");
    let shared: arena::types::Shared = arena.read(global).unwrap();
    assert_eq!((shared.from_user, shared.from_prog, shared.runs), (0, 1, 1));

    // Rust writes, the program reads and answers.
    arena.cell::<u64>(global).unwrap().set(50);
    assert_eq!(publish.test_run(None).unwrap(), 0);
    let shared: arena::types::Shared = arena.read(global).unwrap();
    assert_eq!(
        (shared.from_user, shared.from_prog, shared.runs),
        (50, 51, 2)
    );

    // Offsets outside the arena, and misaligned cells, are refused.
    let end = arena.address() as u64 + arena.len() as u64;
    assert!(arena.offset_of(end).is_none());
    assert!(arena.offset_of(arena.address() as u64 - 1).is_none());
    assert!(arena.read::<u64>(arena.len() - 4).is_err());
    assert!(arena.write(arena.len(), &0u8).is_err());
    assert!(arena.cell::<u64>(global + 4).is_err());
    // Bytes at any offset.
    arena.write_bytes(global + 3, &[1, 2, 3]).unwrap();
    assert_eq!(arena.read::<u64>(global).unwrap(), 50 | 0x0302_0100_0000);
    let mut bytes = [0u8; 4];
    arena.read_bytes(global + 2, &mut bytes).unwrap();
    assert_eq!(bytes, [0, 1, 2, 3]);
}

#[test]
fn an_arena_page_rust_touches_first_is_shared_with_the_program() {
    if !kernel().has(Feature::Arena) {
        return assert_map_refused(arena::Objects::load(), "arena", "arena");
    }
    let objs = arena::Objects::load().expect("load");
    let arena = &objs.maps.arena;
    let publish = &objs.programs.publish;
    publish.test_run(None).unwrap();
    let global = arena.offset_of(objs.bss.global_addr.get()).unwrap();
    // A page other than the globals' has nothing behind it until user
    // space touches it; then the program reads and writes it through the
    // pointer Rust gave it.
    let other = if global / 4096 == 0 { 4096 } else { 0 };
    arena.write(other, &[40u64, 0, 0]).unwrap();
    objs.bss.user_addr.set((arena.address() + other) as u64);
    publish.test_run(None).unwrap();
    assert_eq!(arena.read::<[u64; 3]>(other).unwrap(), [40, 41, 1]);
    assert_eq!(arena.read::<[u64; 3]>(global).unwrap(), [0, 1, 2]);
}

#[test]
fn an_arena_handle_keeps_its_object_s_mapping() {
    if !kernel().has(Feature::Arena) {
        return assert_map_refused(arena::Objects::load(), "arena", "arena");
    }
    let objs = arena::Objects::load().expect("load");
    objs.programs.publish.test_run(None).unwrap();
    let global_addr = objs.bss.global_addr.get();
    let arena::Objects { maps, .. } = objs;
    let arena = maps.arena;
    // Everything else of the object is gone; the arena's memory is not.
    let at = arena.offset_of(global_addr).unwrap();
    assert_eq!(arena.read::<u64>(at + 8).unwrap(), 1);
    // Another handle of the map shares that mapping.
    let clone = Arena::try_from(arena.map().try_clone().unwrap()).unwrap();
    assert_eq!(clone.address(), arena.address());
    drop(arena);
    assert_eq!(clone.read::<u64>(at + 16).unwrap(), 1);
    // The kernel maps an arena once per process, at one address: a handle
    // made from a bare descriptor cannot map it again, and says why.
    let fd = clone.as_fd().try_clone_to_owned().unwrap();
    let err = Arena::try_from(Map::from_fd(fd, "again").unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Map {
                op: "mmap the arena",
                ..
            }
        ),
        "{err}"
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("one address in every process"), "{source}");
}
