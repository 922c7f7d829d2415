//! Typed maps against the kernel, one kind at a time: a program of
//! `maps.bpf.c` writes and Rust reads through the typed map; Rust writes and
//! the program reads it back into `out`. Programs run with
//! `BPF_PROG_TEST_RUN`, their operands in the raw tracepoint context.
//!
//! Each test loads its own copy of the object, so tests running in parallel
//! threads share no map.

use ebpf_skeleton::Pod;
use ebpf_skeleton::{
    ebpf_skeleton, Array, ArrayOfMaps, BatchCursor, BloomFilter, Error, HashMap, HashOfMaps,
    LpmTrie, Map, MapType, PerCpuArray, PerCpuHashMap, PerCpuValues, PerfEventArray, ProgramArray,
    Queue, RingBuf, Stack, StackTraceMap, UpdateFlags,
};

use ebpf_skeleton_tests::kernel::{assert_bpf_loop_refused, assert_map_refused, kernel, Feature};
use ebpf_skeleton_tests::{run, run_on};

ebpf_skeleton!("../bpf/maps.bpf.o");
ebpf_skeleton!("../bpf/bloom.bpf.o");
ebpf_skeleton!("../bpf/bloom_stack.bpf.o");

const WRITE: u64 = 0;
const READ: u64 = 1;
/// What the programs report when they found nothing.
const MISSING: u64 = 0xdead_beef;

/// `struct pair` of maps.bpf.c.
#[derive(Pod, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C)]
struct Pair {
    pid: u32,
    tag: u32,
}

/// `struct stats` of maps.bpf.c.
#[derive(Pod, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
struct Stats {
    count: u64,
    last: u32,
    flags: u32,
}

/// `struct ipv4_key` of maps.bpf.c: prefix length first.
#[derive(Pod, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C)]
struct Ipv4Key {
    prefixlen: u32,
    addr: [u8; 4],
}

/// `struct record` of maps.bpf.c.
#[derive(Pod, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
struct Record {
    a: u64,
    b: u64,
}

/// Makes a typed map of a skeleton's map field, whether the field is the
/// byte map or already a typed map: by hand, as users of `Object::map` do.
fn typed<T: TryFrom<Map, Error = Error>>(field: impl Into<Map>) -> T {
    T::try_from(field.into()).expect("the map's kind and sizes fit the type")
}

/// The first `n` slots of `out`.
fn out(out: &Array<u64>, n: u32) -> Vec<u64> {
    (0..n)
        .map(|i| out.get(i).unwrap().expect("an index of out"))
        .collect()
}

/// Loads the object; without `bpf_loop` (before 5.17) without `big_prog`,
/// which fills `big` with it (`batches_read_update_and_delete_whole_maps`
/// asserts the refusal).
fn load() -> maps::Objects {
    let mut specs = maps::Specs::new().expect("open maps.bpf.o");
    specs.programs.big_prog.autoload = kernel().has(Feature::BpfLoop);
    specs.load().expect("load maps.bpf.o")
}

/// Asserts that `result` is the refusal of a batch operation `op` on
/// `map` by a kernel without batches of that kind of map: ENOTSUPP.
fn assert_batch_unsupported<T: std::fmt::Debug>(
    result: ebpf_skeleton::Result<T>,
    op: &str,
    map: &str,
) {
    let err = result.expect_err("a batch the kernel does not have");
    assert!(
        matches!(&err, Error::Map { op: o, map: m, .. } if *o == op && m == map),
        "{err:?}"
    );
    assert_eq!(err.errno(), Some(524), "ENOTSUPP: {err:?}");
    assert_eq!(err.to_string(), format!("{op} on map `{map}`"));
}

/// The CPUs the per-CPU tests run programs on: the first two online ones.
fn test_cpus() -> Vec<u32> {
    let cpus = ebpf_skeleton::perf::online_cpus().expect("online CPUs");
    cpus.into_iter().take(2).collect()
}

#[test]
fn hash_map_with_struct_keys_and_values_round_trips() {
    let objs = load();
    let hash: HashMap<Pair, Stats> = typed(objs.maps.hash);
    let lru: HashMap<u32, u64> = typed(objs.maps.lru);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.hash_prog;
    assert_eq!(hash.map().map_type(), MapType::HASH);
    assert_eq!(lru.map().map_type(), MapType::LRU_HASH);

    // The program writes, Rust reads.
    run(prog, &[WRITE, 40, 2, 99]);
    let key = Pair { pid: 40, tag: 2 };
    assert_eq!(
        hash.get(&key).unwrap(),
        Some(Stats {
            count: 99,
            last: 42,
            flags: 0xabc
        })
    );
    assert_eq!(hash.get(&Pair { pid: 40, tag: 3 }).unwrap(), None);
    assert_eq!(lru.get(&40).unwrap(), Some(99));

    // Rust writes, the program reads.
    let mine = Pair { pid: 1, tag: 2 };
    hash.insert(
        &mine,
        &Stats {
            count: 5,
            last: 6,
            flags: 7,
        },
        UpdateFlags::NO_EXIST,
    )
    .unwrap();
    lru.insert(&1, &44, UpdateFlags::ANY).unwrap();
    run(prog, &[READ, 1, 2, 0]);
    assert_eq!(out(&results, 5), [1, 5, 6, 7, 44]);
    run(prog, &[READ, 9, 9, 0]);
    assert_eq!(out(&results, 5), [0, MISSING, MISSING, MISSING, MISSING]);

    // Flags reach the kernel.
    let again = hash.insert(
        &mine,
        &Stats {
            count: 0,
            last: 0,
            flags: 0,
        },
        UpdateFlags::NO_EXIST,
    );
    assert_eq!(again.unwrap_err().errno(), Some(libc::EEXIST));
    let missing = hash.insert(
        &Pair { pid: 8, tag: 8 },
        &Stats {
            count: 0,
            last: 0,
            flags: 0,
        },
        UpdateFlags::EXIST,
    );
    assert_eq!(missing.unwrap_err().errno(), Some(libc::ENOENT));

    // Keys and entries, typed.
    let mut keys: Vec<Pair> = hash.keys().collect::<Result<_, _>>().unwrap();
    keys.sort();
    assert_eq!(keys, [mine, key]);
    let mut entries: Vec<(Pair, Stats)> = hash.iter().collect::<Result<_, _>>().unwrap();
    entries.sort_by_key(|(k, _)| *k);
    assert_eq!(
        entries[1],
        (
            key,
            Stats {
                count: 99,
                last: 42,
                flags: 0xabc
            }
        )
    );

    // Removed in Rust, gone for the program.
    assert!(hash.remove(&mine).unwrap());
    assert!(!hash.remove(&mine).unwrap());
    run(prog, &[READ, 1, 2, 0]);
    assert_eq!(out(&results, 2), [0, MISSING]);
}

#[test]
fn batches_read_update_and_delete_whole_maps() {
    let objs = load();
    let big: HashMap<u32, u64> = typed(objs.maps.big);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.big_prog;
    let bpf_loop = kernel().has(Feature::BpfLoop);

    // The program fills 3000 entries; one batched read returns them all.
    // Without bpf_loop the kernel refuses the program, and Rust fills them.
    if bpf_loop {
        run(prog, &[WRITE, 3000, 3, 0]);
    } else {
        assert_bpf_loop_refused(maps::Objects::load(), "maps", "big_prog");
        let keys: Vec<u32> = (0..3000).collect();
        let values: Vec<u64> = keys.iter().map(|&k| 3 * u64::from(k)).collect();
        big.update_batch(&keys, &values, UpdateFlags::ANY).unwrap();
    }
    let mut entries = big.entries_batched().unwrap();
    assert_eq!(entries.len(), 3000);
    entries.sort();
    assert!(entries
        .iter()
        .enumerate()
        .all(|(i, &(k, v))| k == i as u32 && v == 3 * k as u64));

    // A batch of one: 3000 keys in 4096 buckets share buckets, and a
    // bucket of two does not fit; the cursor stays put for a retry.
    let (mut keys, mut values) = ([0u32; 1], [0u64; 1]);
    let mut cursor = BatchCursor::new();
    let mut nospc = 0;
    let mut read = 0;
    while !cursor.is_done() {
        match big.get_batch(&mut cursor, &mut keys, &mut values) {
            Ok(n) => read += n,
            Err(e) if e.errno() == Some(libc::ENOSPC) => {
                nospc += 1;
                let (mut k2, mut v2) = ([0u32; 64], [0u64; 64]);
                let n = big.get_batch(&mut cursor, &mut k2, &mut v2).unwrap();
                assert!(n >= 2, "a bucket too large for one entry holds {n}");
                assert!(k2[..n]
                    .iter()
                    .zip(&v2[..n])
                    .all(|(&k, &v)| v == 3 * k as u64));
                read += n;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(nospc > 0, "no bucket held two entries");
    assert_eq!(read, 3000);

    // The streaming iterator grows its batch of one the same way.
    let mut streamed: Vec<(u32, u64)> = big.iter_batched(1).collect::<Result<_, _>>().unwrap();
    streamed.sort();
    assert_eq!(streamed, entries);

    // Rust deletes and writes in batches; the program sees the result.
    let gone: Vec<u32> = (0..3000).step_by(2).chain([5000, 6000]).collect();
    assert_eq!(
        big.delete_batch(&gone).unwrap(),
        1500,
        "missing keys are skipped"
    );
    let keys: Vec<u32> = (0..1000).map(|i| 2 * i).collect();
    let values: Vec<u64> = keys.iter().map(|&k| k as u64 + 7).collect();
    big.update_batch(&keys, &values, UpdateFlags::ANY).unwrap();
    let odd = (0..3000u64).filter(|k| k % 2 == 1);
    let expected = odd.map(|k| k * 1000 + 3 * k).sum::<u64>()
        + keys.iter().map(|&k| k as u64 * 1001 + 7).sum::<u64>();
    let now = big.entries_batched().unwrap();
    assert_eq!(now.len(), 2500);
    if bpf_loop {
        run(prog, &[READ, 0, 0, 0]);
        assert_eq!(out(&results, 2), [2500, expected]);
    }
    let sum: u64 = now.iter().map(|&(k, v)| u64::from(k) * 1000 + v).sum();
    assert_eq!(sum, expected);

    // Mismatched batches are refused before the kernel sees them.
    let err = big
        .update_batch(&[1, 2], &[1], UpdateFlags::ANY)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BatchLength {
                keys: 2,
                values: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "update batch on map `big`: 2 keys but 1 values"
    );
}

#[test]
fn array_round_trips() {
    let objs = load();
    let array: Array<u64> = typed(objs.maps.array);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.array_prog;
    assert_eq!(array.len(), 8);

    run(prog, &[WRITE, 3, 333, 0]);
    assert_eq!(array.get(3).unwrap(), Some(333));
    assert_eq!(array.get(0).unwrap(), Some(0), "every index has a value");
    assert_eq!(array.get(8).unwrap(), None, "past the end");

    array.set(5, &555, UpdateFlags::ANY).unwrap();
    run(prog, &[READ, 5, 0, 0]);
    assert_eq!(out(&results, 1), [555]);
    assert_eq!(
        array.set(8, &1, UpdateFlags::ANY).unwrap_err().errno(),
        Some(libc::E2BIG)
    );
    assert_eq!(
        array.set(1, &1, UpdateFlags::NO_EXIST).unwrap_err().errno(),
        Some(libc::EEXIST)
    );

    // Batches: every index at once.
    let indexes: Vec<u32> = (0..8).collect();
    let values: Vec<u64> = (0..8).map(|i| 100 + i).collect();
    array
        .update_batch(&indexes, &values, UpdateFlags::ANY)
        .unwrap();
    run(prog, &[READ, 7, 0, 0]);
    assert_eq!(out(&results, 1), [107]);
    let all = array.entries_batched().unwrap();
    assert_eq!(all, (0..8).map(|i| (i, 100 + i as u64)).collect::<Vec<_>>());
    assert_eq!(array.iter().collect::<Result<Vec<_>, _>>().unwrap(), all);
    let batched: Vec<(u32, u64)> = array.iter_batched(3).collect::<Result<_, _>>().unwrap();
    assert_eq!(batched, all);
}

#[test]
fn per_cpu_maps_hold_one_value_per_cpu() {
    let objs = load();
    let hash: PerCpuHashMap<u32, u64> = typed(objs.maps.pc_hash);
    let lru: PerCpuHashMap<u32, u64> = typed(objs.maps.lru_pc_hash);
    let array: PerCpuArray<u32> = typed(objs.maps.pc_array);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.per_cpu_prog;
    let cpus = test_cpus();
    let possible = ebpf_skeleton::possible_cpus().unwrap();
    assert_eq!(
        PerCpuValues::<u32>::stride(),
        8,
        "4-byte values in 8-byte slots"
    );

    // The program writes b + cpu on each CPU it runs on.
    for &cpu in &cpus {
        run_on(prog, cpu, &[WRITE, 2, 100, 0]);
    }
    for map in [&hash, &lru] {
        let values = map.get(&2).unwrap().expect("written");
        assert_eq!(values.len(), possible);
        for cpu in 0..possible {
            let expected = if cpus.contains(&(cpu as u32)) {
                100 + cpu as u64
            } else {
                0
            };
            assert_eq!(
                values.get(cpu),
                Some(expected),
                "map `{}`, CPU {cpu}",
                map.name()
            );
        }
        let mut into = PerCpuValues::zeroed().unwrap();
        assert!(map.get_into(&2, &mut into).unwrap());
        assert_eq!(into, values);
    }
    let values = array.get(2).unwrap().unwrap();
    for &cpu in &cpus {
        assert_eq!(
            values.get(cpu as usize),
            Some(100 + cpu),
            "pc_array, CPU {cpu}"
        );
    }

    // Rust writes a different value for each CPU; each CPU reads its own.
    let mine = PerCpuValues::from_fn(|cpu| 1000 + 10 * cpu as u64).unwrap();
    hash.insert(&3, &mine, UpdateFlags::ANY).unwrap();
    lru.insert(&3, &PerCpuValues::repeat(77).unwrap(), UpdateFlags::ANY)
        .unwrap();
    array
        .set(
            3,
            &PerCpuValues::from_fn(|cpu| 7 + cpu as u32).unwrap(),
            UpdateFlags::ANY,
        )
        .unwrap();
    for &cpu in &cpus {
        run_on(prog, cpu, &[READ, 3, 0, 0]);
        assert_eq!(
            out(&results, 4),
            [1000 + 10 * cpu as u64, 77, 7 + cpu as u64, cpu as u64]
        );
    }

    // Keys, entries and batches.
    let mut keys: Vec<u32> = hash.keys().collect::<Result<_, _>>().unwrap();
    keys.sort();
    assert_eq!(keys, [2, 3]);
    let mut entries = hash.entries_batched().unwrap();
    entries.sort_by_key(|(k, _)| *k);
    assert_eq!(entries[1], (3, mine.clone()));
    let mut iterated: Vec<(u32, PerCpuValues<u64>)> =
        hash.iter().collect::<Result<_, _>>().unwrap();
    iterated.sort_by_key(|(k, _)| *k);
    assert_eq!(iterated, entries);

    let batch_keys = [10u32, 11];
    let batch_values = [
        PerCpuValues::repeat(1).unwrap(),
        PerCpuValues::from_fn(|cpu| cpu as u64).unwrap(),
    ];
    hash.update_batch(&batch_keys, &batch_values, UpdateFlags::ANY)
        .unwrap();
    let mut cursor = BatchCursor::new();
    let (mut keys, mut values) = ([0u32; 16], vec![PerCpuValues::zeroed().unwrap(); 16]);
    let n = hash.get_batch(&mut cursor, &mut keys, &mut values).unwrap();
    assert_eq!(n, 4);
    assert!(cursor.is_done());
    let found = keys[..n].iter().position(|&k| k == 11).expect("key 11");
    assert_eq!(
        values[found].to_vec(),
        (0..possible as u64).collect::<Vec<_>>()
    );
    assert_eq!(hash.delete_batch(&batch_keys).unwrap(), 2);

    let rows = array.entries_batched().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[3].1.to_vec(),
        (0..possible as u32).map(|c| 7 + c).collect::<Vec<_>>()
    );
    let rows = [
        PerCpuValues::repeat(5).unwrap(),
        PerCpuValues::repeat(6).unwrap(),
    ];
    let batched = array.update_batch(&[0, 1], &rows, UpdateFlags::ANY);
    if kernel().has(Feature::PercpuArrayBatch) {
        batched.unwrap();
    } else {
        // Before 5.13 the kernel has no batches of per-CPU arrays.
        assert_batch_unsupported(batched, "update batch", "pc_array");
        for (index, values) in (0..).zip(&rows) {
            array.set(index, values, UpdateFlags::ANY).unwrap();
        }
    }
    for &cpu in &cpus {
        run_on(prog, cpu, &[READ, 1, 0, 0]);
        assert_eq!(out(&results, 3)[2], 6);
    }
}

#[test]
fn lpm_trie_matches_the_longest_prefix() {
    let objs = load();
    let routes: LpmTrie<Ipv4Key, u32> = typed(objs.maps.routes);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.lpm_prog;
    let addr = |a: [u8; 4]| Ipv4Key {
        prefixlen: 32,
        addr: a,
    };

    // The program stores 10.0.0.0/8; Rust finds it for any 10.x address.
    run(prog, &[WRITE, 10, 8, 1]);
    assert_eq!(routes.get(&addr([10, 1, 2, 3])).unwrap(), Some(1));
    assert_eq!(routes.get(&addr([11, 1, 2, 3])).unwrap(), None);

    // Rust stores the longer 10.1.0.0/16; the program matches it first.
    let net = Ipv4Key {
        prefixlen: 16,
        addr: [10, 1, 0, 0],
    };
    routes.insert(&net, &2, UpdateFlags::ANY).unwrap();
    let lookup = |a: [u8; 4]| {
        run(prog, &[READ, u32::from_ne_bytes(a) as u64, 0, 0]);
        out(&results, 1)[0]
    };
    assert_eq!(lookup([10, 1, 2, 3]), 2);
    assert_eq!(lookup([10, 9, 9, 9]), 1);
    assert_eq!(lookup([11, 0, 0, 0]), MISSING);

    let mut prefixes: Vec<Ipv4Key> = routes.keys().collect::<Result<_, _>>().unwrap();
    prefixes.sort();
    assert_eq!(
        prefixes,
        [
            Ipv4Key {
                prefixlen: 8,
                addr: [10, 0, 0, 0]
            },
            net
        ]
    );
    let mut entries = routes.entries_batched().unwrap();
    entries.sort();
    assert_eq!(entries.iter().map(|e| e.1).collect::<Vec<_>>(), [1, 2]);
    let (mut keys, mut values) = (
        [Ipv4Key {
            prefixlen: 0,
            addr: [0; 4],
        }; 4],
        [0u32; 4],
    );
    let mut cursor = BatchCursor::new();
    let batch = routes.get_batch(&mut cursor, &mut keys, &mut values);
    if kernel().has(Feature::LpmTrieBatch) {
        assert_eq!(batch.unwrap(), 2, "the kernel batches tries");
        assert!(cursor.is_done());
    } else {
        // Before 5.13 it does not (entries_batched above went key by key).
        assert_batch_unsupported(batch, "lookup batch", "routes");
    }

    // Removal is by exact prefix.
    assert!(!routes.remove(&addr([10, 1, 2, 3])).unwrap());
    assert!(routes.remove(&net).unwrap());
    assert_eq!(lookup([10, 1, 2, 3]), 1);
}

#[test]
fn queue_and_stack_push_pop_and_peek() {
    let objs = load();
    let queue: Queue<u64> = typed(objs.maps.queue);
    let stack: Stack<u64> = typed(objs.maps.stack);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.queue_stack_prog;

    // The program pushes 1 then 2 on each.
    run(prog, &[WRITE, 1, 2, 0]);
    assert_eq!(queue.peek().unwrap(), Some(1));
    assert_eq!(
        [
            queue.pop().unwrap(),
            queue.pop().unwrap(),
            queue.pop().unwrap()
        ],
        [Some(1), Some(2), None]
    );
    assert_eq!(stack.peek().unwrap(), Some(2));
    assert_eq!(
        [
            stack.pop().unwrap(),
            stack.pop().unwrap(),
            stack.pop().unwrap()
        ],
        [Some(2), Some(1), None]
    );

    // Rust pushes 7 then 8; the program pops them in each map's order.
    for v in [7, 8] {
        queue.push(&v, UpdateFlags::ANY).unwrap();
        stack.push(&v, UpdateFlags::ANY).unwrap();
    }
    run(prog, &[READ, 0, 0, 0]);
    assert_eq!(out(&results, 5), [7, 8, 8, 7, MISSING]);

    // Full: refused, unless told to drop the oldest.
    assert_eq!(queue.capacity(), 8);
    for v in 0..8 {
        queue.push(&v, UpdateFlags::ANY).unwrap();
    }
    assert_eq!(
        queue.push(&8, UpdateFlags::ANY).unwrap_err().errno(),
        Some(libc::E2BIG)
    );
    queue.push(&8, UpdateFlags::EXIST).unwrap();
    assert_eq!(queue.pop().unwrap(), Some(1));
}

#[test]
fn bloom_filter_answers_maybe_or_no() {
    if !kernel().has(Feature::BloomFilter) {
        return assert_map_refused(bloom::Objects::load(), "bloom", "bloom");
    }
    let objs = bloom::Objects::load().expect("load bloom.bpf.o");
    let bloom: BloomFilter<u32> = typed(objs.maps.bloom);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.bloom_prog;

    run(prog, &[WRITE, 1234, 0, 0]);
    assert!(bloom.contains(&1234).unwrap());
    assert!(
        !bloom.contains(&4321).unwrap(),
        "one value in 64 slots: no false positive here"
    );

    bloom.insert(&4321).unwrap();
    run(prog, &[READ, 4321, 999, 0]);
    assert_eq!(out(&results, 2), [1, 0]);
}

/// The first release seen to reject bloom_stack.bpf.c (see that file):
/// 6.18 loads it, 7.2 and 7.3 poison its stack values. Debian's archive no
/// longer has bootable 6.19, 7.0 or 7.1 kernels (their modules are gone), so
/// those are untested.
const POISONS_BLOOM_STACK_VALUES: (u32, u32) = (7, 2);

#[test]
fn a_bloom_filter_asked_about_stack_values_loads_until_the_verifier_poisons_them() {
    if !kernel().has(Feature::BloomFilter) {
        return assert_map_refused(bloom_stack::Objects::load(), "bloom_stack", "bloom");
    }
    let loaded = bloom_stack::Objects::load();
    let (major, minor) = POISONS_BLOOM_STACK_VALUES;
    if kernel().at_least(major, minor) {
        let err = loaded.expect_err("the verifier rejects the stack values");
        let Error::ProgramLoad {
            program,
            source,
            log,
            ..
        } = &err
        else {
            panic!("expected the program's rejection, got {err}");
        };
        assert_eq!(program, "bloom_stack_prog");
        assert_eq!(source.raw_os_error(), Some(libc::EACCES), "{err}");
        assert!(
            log.contains("slot poisoned by dead code elimination"),
            "{log}"
        );
        return;
    }
    let objs = loaded.expect("load bloom_stack.bpf.o");
    let bloom: BloomFilter<u32> = typed(objs.maps.bloom);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.bloom_stack_prog;
    run(prog, &[WRITE, 1234, 0, 0]);
    assert!(bloom.contains(&1234).unwrap());
    run(prog, &[READ, 1234, 4321, 0]);
    assert_eq!(out(&results, 2), [1, 0]);
}

#[test]
fn program_array_sends_tail_calls_where_rust_says() {
    let objs = load();
    let jump: ProgramArray = typed(objs.maps.jump);
    let results: Array<u64> = typed(objs.maps.out);
    let caller = &objs.programs.tail_caller;
    let target = &objs.programs.tail_target;
    assert_eq!(jump.len(), 4);

    // Empty: the tail call falls through.
    run(caller, &[0, 0, 55, 0]);
    assert_eq!(out(&results, 2), [1, 0]);

    // Rust installs the target; the program jumps to it.
    results.set(0, &0, UpdateFlags::ANY).unwrap();
    jump.set(2, target).unwrap();
    assert_eq!(jump.get(2).unwrap(), Some(target.id().unwrap()));
    assert_eq!(jump.get(1).unwrap(), None);
    run(caller, &[0, 2, 77, 0]);
    assert_eq!(out(&results, 2), [0, 77]);

    assert!(jump.remove(2).unwrap());
    assert!(!jump.remove(2).unwrap());
    run(caller, &[0, 2, 88, 0]);
    assert_eq!(out(&results, 2), [1, 77]);
}

#[test]
fn maps_of_maps_hold_the_maps_rust_puts_there() {
    let objs = load();
    let outer_array: ArrayOfMaps = typed(objs.maps.outer_array);
    let outer_hash: HashOfMaps = typed(objs.maps.outer_hash);
    let inner_a: Array<u64> = typed(objs.maps.inner_a);
    let inner_b: Array<u64> = typed(objs.maps.inner_b);
    let inner_c: Array<u64> = typed(objs.maps.inner_c);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.of_maps_prog;

    // Slot 0 was filled at load, by the C initializer.
    assert_eq!(outer_array.get(0).unwrap(), Some(inner_a.info().id));
    assert_eq!(outer_array.get(1).unwrap(), None);
    run(prog, &[WRITE, 0, 10, 0]);
    assert_eq!(inner_a.get(0).unwrap(), Some(10));

    // Rust puts inner_b at index 1 and inner_c under key 5.
    outer_array.set(1, &inner_b).unwrap();
    outer_hash.set(&5, &inner_c).unwrap();
    assert_eq!(outer_hash.get(&5).unwrap(), Some(inner_c.info().id));
    let opened = outer_array.get_map(1).unwrap().expect("a map at index 1");
    assert_eq!(opened.info().id, inner_b.info().id);

    // The program writes through them; Rust reads the inner maps.
    run(prog, &[WRITE, 1, 11, 0]);
    run(prog, &[WRITE, 5, 0, 55]);
    assert_eq!(
        (inner_b.get(0).unwrap(), inner_c.get(0).unwrap()),
        (Some(11), Some(55))
    );

    // Rust writes the inner maps; the program reads through the outer ones.
    inner_b.set(0, &21, UpdateFlags::ANY).unwrap();
    inner_c.set(0, &23, UpdateFlags::ANY).unwrap();
    run(prog, &[READ, 1, 0, 0]);
    assert_eq!(out(&results, 1), [21]);
    run(prog, &[READ, 5, 0, 0]);
    assert_eq!(out(&results, 2)[1], 23);
    assert_eq!(
        outer_hash.keys().collect::<Result<Vec<u32>, _>>().unwrap(),
        [5]
    );

    // Removed: the program finds nothing.
    assert!(outer_array.remove(1).unwrap());
    assert!(outer_hash.remove(&5).unwrap());
    run(prog, &[READ, 1, 0, 0]);
    assert_eq!(out(&results, 1), [MISSING]);
    run(prog, &[READ, 5, 0, 0]);
    assert_eq!(out(&results, 2)[1], MISSING);
}

#[test]
fn stack_trace_map_returns_the_kernel_stack() {
    let objs = load();
    let stacks: StackTraceMap = typed(objs.maps.stacks);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.stack_prog;
    assert_eq!(stacks.max_depth(), 127);

    run(prog, &[0; 4]);
    let id = out(&results, 1)[0] as i64;
    assert!(id >= 0, "bpf_get_stackid failed: {id}");
    let id = id as u32;
    let frames = stacks
        .get(id)
        .unwrap()
        .expect("the stack the program stored");
    assert!(
        !frames.is_empty() && frames.len() < 127,
        "{} frames",
        frames.len()
    );
    assert!(
        frames.iter().all(|&ip| ip >= 0xffff_8000_0000_0000),
        "kernel addresses, no zeros: {frames:x?}"
    );
    assert_eq!(stacks.keys().collect::<Result<Vec<_>, _>>().unwrap(), [id]);
    assert_eq!(stacks.iter().next().unwrap().unwrap(), (id, frames.clone()));

    // Rust frees the id; the program stores the stack again.
    assert!(stacks.remove(id).unwrap());
    assert_eq!(stacks.get(id).unwrap(), None);
    run(prog, &[0; 4]);
    let again = out(&results, 1)[0] as u32;
    assert_eq!(
        stacks.get(again).unwrap().map(|f| f.len()),
        Some(frames.len())
    );
}

#[test]
fn ring_buffer_records_and_consumer_position_round_trip() {
    let objs = load();
    let ring: RingBuf = typed(objs.maps.ring);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.ring_prog;
    assert_eq!(ring.capacity(), 4096);

    run(prog, &[WRITE, 5, 6, 0]);
    assert_eq!(out(&results, 1), [0], "bpf_ringbuf_output succeeded");
    run(prog, &[READ, 0, 0, 0]);
    // An 8-byte header and the 16-byte record, not consumed yet.
    assert_eq!(out(&results, 2), [24, 0]);

    let mut reader = ebpf_skeleton::RingBufReader::new(ring.map()).unwrap();
    assert_eq!(
        reader.next_as::<Record>().unwrap(),
        Some(Record { a: 5, b: 6 })
    );
    assert_eq!(reader.next_as::<Record>().unwrap(), None);
    // Rust's consumer position is what the program sees.
    run(prog, &[READ, 0, 0, 0]);
    assert_eq!(out(&results, 2), [0, 24]);
}

#[test]
fn perf_event_array_takes_rust_s_events_and_delivers_samples() {
    let objs = load();
    let perf: PerfEventArray = typed(objs.maps.perf);
    let results: Array<u64> = typed(objs.maps.out);
    let prog = &objs.programs.perf_prog;
    assert!(perf.len() as usize >= ebpf_skeleton::possible_cpus().unwrap());
    let cpu = test_cpus()[0];

    // No event in the CPU's slot yet: the program's output fails.
    run_on(prog, cpu, &[0, 1, 2, 0]);
    assert_eq!(out(&results, 1)[0] as i64, -(libc::ENOENT as i64));

    // The reader stores an event per CPU; the program's sample arrives.
    let mut reader = ebpf_skeleton::PerfReader::new(perf.map()).unwrap();
    run_on(prog, cpu, &[0, 3, 4, 0]);
    assert_eq!(out(&results, 1), [0]);
    let (from, sample) = reader.next_sample().expect("a sample");
    assert_eq!(from, cpu);
    assert_eq!(
        Record::read_from_prefix(sample).unwrap().0,
        Record { a: 3, b: 4 }
    );
}

#[test]
fn wrong_kinds_and_sizes_are_refused_with_both_sides_named() {
    let objs = load();
    let err = HashMap::<u32, u64>::try_from(Map::from(objs.maps.array)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MapKind {
                actual: MapType::ARRAY,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "map `array` is of kind array, expected hash or lru_hash"
    );

    let err = PerCpuHashMap::<u32, u64>::try_from(Map::from(objs.maps.lru)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "map `lru` is of kind lru_hash, expected percpu_hash or lru_percpu_hash"
    );

    let err = Array::<u64>::try_from(Map::from(objs.maps.pc_array)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MapKind {
                expected: [MapType::ARRAY],
                ..
            }
        ),
        "{err}"
    );

    let err = HashMap::<u64, u64>::try_from(Map::from(objs.maps.big)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Size {
                what: "key",
                expected: 4,
                actual: 8,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "open as HashMap on map `big`: the key is 8 bytes, the map's keys are 4"
    );

    let err = PerCpuArray::<u64>::try_from(Map::from(load().maps.pc_array)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "open as PerCpuArray on map `pc_array`: the value is 8 bytes, the map's values are 4"
    );
    let err = Queue::<u32>::try_from(Map::from(objs.maps.queue)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Size {
                what: "value",
                expected: 8,
                actual: 4,
                ..
            }
        ),
        "{err}"
    );
    let err = RingBuf::try_from(Map::from(objs.maps.perf)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MapKind {
                actual: MapType::PERF_EVENT_ARRAY,
                ..
            }
        ),
        "{err}"
    );
    let err = HashOfMaps::<u64>::try_from(Map::from(objs.maps.outer_hash)).unwrap_err();
    assert!(matches!(err, Error::Size { what: "key", .. }), "{err}");
}

#[test]
fn typed_maps_work_on_a_map_found_by_name() {
    let mut open = ebpf_skeleton::OpenObject::from_static(maps::NAME, maps::bytes()).unwrap();
    let mut big = open.program_spec("big_prog").unwrap();
    big.autoload = kernel().has(Feature::BpfLoop);
    open.apply_program(&big).unwrap();
    let object = open.load().unwrap();
    let lru = HashMap::<u32, u64>::try_from(object.map("lru").unwrap()).unwrap();
    lru.insert(&1, &2, UpdateFlags::ANY).unwrap();
    assert_eq!(lru.get(&1).unwrap(), Some(2));
    let stack: Stack<u64> = object.map("stack").unwrap().try_into().unwrap();
    assert_eq!(stack.pop().unwrap(), None);
    let debug = format!("{lru:?}");
    assert!(
        debug.starts_with("HashMap { name: \"lru\", types: [\"u32\", \"u64\"]"),
        "{debug}"
    );
    // Back to bytes, the same map.
    let bytes = lru.into_map();
    assert_eq!(
        bytes.lookup(&1u32.to_ne_bytes()).unwrap(),
        Some(2u64.to_ne_bytes().to_vec())
    );
}

#[test]
fn pinned_maps_reopen_typed_and_unpin() {
    let objs = load();
    let hash: HashMap<Pair, Stats> = typed(objs.maps.hash);
    let array: Array<u64> = typed(objs.maps.array);
    let path = std::path::PathBuf::from(format!(
        "/sys/fs/bpf/ebpf_skeleton_maps_{}",
        std::process::id()
    ));
    let key = Pair { pid: 3, tag: 4 };
    let value = Stats {
        count: 1,
        last: 2,
        flags: 3,
    };
    hash.insert(&key, &value, UpdateFlags::ANY).unwrap();

    hash.pin(&path).unwrap();
    let reopened = HashMap::<Pair, Stats>::from_pin(&path).unwrap();
    assert_eq!(reopened.info().id, hash.info().id);
    assert_eq!(reopened.get(&key).unwrap(), Some(value));
    // Writes through either handle are one map.
    reopened
        .insert(&Pair { pid: 5, tag: 6 }, &value, UpdateFlags::ANY)
        .unwrap();
    assert_eq!(hash.keys().count(), 2);

    // The pin is checked like any map.
    let err = Array::<u64>::from_pin(&path).unwrap_err();
    assert!(matches!(err, Error::MapKind { .. }), "{err}");
    // Unpinning through another map is refused; the pin stays.
    let err = array.unpin(&path).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL));
    assert!(err.to_string().contains("it pins another map"), "{err}");
    assert!(path.exists());

    reopened.unpin(&path).unwrap();
    assert!(!path.exists());
    assert_eq!(
        HashMap::<Pair, Stats>::from_pin(&path).unwrap_err().errno(),
        Some(libc::ENOENT)
    );
}

#[test]
fn a_frozen_map_refuses_user_space_writes_but_not_the_program_s() {
    let objs = load();
    let array: Array<u64> = typed(objs.maps.array);
    array.set(1, &10, UpdateFlags::ANY).unwrap();
    array.freeze().unwrap();

    let err = array.set(1, &11, UpdateFlags::ANY).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
    assert!(
        err.to_string().starts_with("update on map `array`"),
        "{err}"
    );
    let err = array
        .update_batch(&[2], &[12], UpdateFlags::ANY)
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
    assert_eq!(array.get(1).unwrap(), Some(10));

    // The program still writes.
    run(&objs.programs.array_prog, &[WRITE, 1, 99, 0]);
    assert_eq!(array.get(1).unwrap(), Some(99));
}
