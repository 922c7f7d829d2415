//! Read-then-clear of a hash map in one step per batch
//! (`BPF_MAP_LOOKUP_AND_DELETE_BATCH`): every entry comes out exactly once
//! and the map is left empty, whether taken whole or batch by batch.

use std::collections::BTreeMap;

use ebpf_skeleton::{ebpf_skeleton, BatchCursor, UpdateFlags};
use ebpf_skeleton_tests::kernel::{kernel, Feature};

ebpf_skeleton!("../bpf/maps.bpf.o");

/// The object; without `bpf_loop` (before 5.17) without `big_prog`, which
/// calls it (the maps tests assert the refusal).
fn load() -> maps::Objects {
    let mut specs = maps::Specs::new().unwrap();
    specs.programs.big_prog.autoload = kernel().has(Feature::BpfLoop);
    specs.load().unwrap()
}

#[test]
fn take_all_empties_the_map_and_returns_every_entry() {
    let objs = load();
    let big = &objs.maps.big;
    let keys: Vec<u32> = (0..3000).collect();
    let values: Vec<u64> = keys.iter().map(|&k| u64::from(k) * 3).collect();
    big.update_batch(&keys, &values, UpdateFlags::ANY).unwrap();

    let taken: BTreeMap<u32, u64> = big.take_all().unwrap().into_iter().collect();
    assert_eq!(taken.len(), 3000, "every entry exactly once");
    assert!(taken.iter().all(|(&k, &v)| v == u64::from(k) * 3));
    assert_eq!(big.keys().count(), 0, "the map is empty");
    assert!(big.take_all().unwrap().is_empty());
}

#[test]
fn take_batch_goes_through_the_map_batch_by_batch() {
    let objs = load();
    let big = &objs.maps.big;
    for k in 0..500u32 {
        big.insert(&k, &u64::from(k), UpdateFlags::ANY).unwrap();
    }
    let (mut keys, mut values) = ([0u32; 64], [0u64; 64]);
    let mut cursor = BatchCursor::new();
    let mut seen = BTreeMap::new();
    loop {
        let n = big.take_batch(&mut cursor, &mut keys, &mut values).unwrap();
        if n == 0 {
            break;
        }
        for i in 0..n {
            assert!(
                seen.insert(keys[i], values[i]).is_none(),
                "key {} twice",
                keys[i]
            );
        }
    }
    assert!(cursor.is_done());
    assert_eq!(seen.len(), 500);
    assert_eq!(big.keys().count(), 0);
}
