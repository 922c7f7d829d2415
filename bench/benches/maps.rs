//! `cargo bench -p ebpf-skeleton-bench --bench maps`: typed map reads
//! against the raw libbpf-sys calls (and libbpf-rs), in one run.
//!
//! 1. A whole 100,000-entry hash map (`u32` -> `u64`) read by the typed
//!    batched read (`HashMap::entries_batched`) against a per-key loop of
//!    `bpf_map_get_next_key` + `bpf_map_lookup_elem` (goal: at least 8x
//!    faster).
//! 2. One lookup: `HashMap::get` against `bpf_map_lookup_elem` (goal:
//!    within 5%).
//!
//! Contenders take turns within each round (the order rotating), and the
//! table shows medians over the rounds. `EBPF_BENCH_ROUNDS` sets the rounds
//! of the whole-map reads (default 21); single lookups run 5x as many
//! rounds of 20,000 lookups each.

use std::hint::black_box;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::{HashMap, Map, UpdateFlags};
use ebpf_skeleton_bench::{bench_rounds, median, pin_to};
use libbpf_rs::{MapCore, MapFlags, MapHandle};

const ENTRIES: u32 = 100_000;
const WARMUP: usize = 2;
const LOOKUPS_PER_ROUND: usize = 20_000;

fn main() {
    let rounds = bench_rounds();
    let cpu = pin_to_last_cpu();
    let map = create_hash("bench_hash", ENTRIES);
    let fill: Vec<u32> = (0..ENTRIES).collect();
    let values: Vec<u64> = fill.iter().map(|&k| value_of(k)).collect();
    map.update_batch(&fill, &values, UpdateFlags::ANY)
        .expect("fill the map");
    let handle = MapHandle::from_map_id(map.info().id).expect("libbpf-rs MapHandle");
    let expected = checksum(fill.iter().map(|&k| (k, value_of(k))));

    println!(
        "Typed maps against raw libbpf-sys (and libbpf-rs), on CPU {cpu}; medians over rounds, \
         contenders taking turns within each round."
    );
    println!();
    whole_map(&map, &handle, rounds, expected);
    println!();
    single_lookup(&map, &handle, rounds * 5);
}

/// What a whole-map read returns.
type Entries = Vec<(u32, u64)>;

/// The value stored under `key`.
fn value_of(key: u32) -> u64 {
    u64::from(key) * 7 + 1
}

/// An order-independent digest of entries, to check every contender read
/// the whole map right.
fn checksum(entries: impl Iterator<Item = (u32, u64)>) -> (usize, u64) {
    entries.fold((0, 0), |(n, sum), (k, v)| {
        (
            n + 1,
            sum.wrapping_add(u64::from(k).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ v),
        )
    })
}

/// A hash map made with `bpf_map_create`, typed.
fn create_hash(name: &str, max_entries: u32) -> HashMap<u32, u64> {
    let c_name = std::ffi::CString::new(name).expect("a name without NUL");
    // SAFETY: a valid name and no options.
    let fd = unsafe {
        sys::bpf_map_create(
            sys::BPF_MAP_TYPE_HASH,
            c_name.as_ptr(),
            4,
            8,
            max_entries,
            std::ptr::null(),
        )
    };
    assert!(
        fd >= 0,
        "bpf_map_create: {} (run as root)",
        std::io::Error::from_raw_os_error(-fd)
    );
    // SAFETY: the kernel just returned this fd to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    Map::from_fd(fd, name)
        .expect("map info")
        .try_into()
        .expect("a u32 -> u64 hash map")
}

fn pin_to_last_cpu() -> u32 {
    let cpu = ebpf_skeleton::perf::online_cpus()
        .expect("online CPUs")
        .last()
        .copied()
        .unwrap_or(0);
    pin_to(cpu);
    cpu
}

/// Each contender's measurement in each round.
struct Samples(Vec<Vec<f64>>);

impl Samples {
    /// The median of contender `i`'s measurements.
    fn median(&self, i: usize) -> f64 {
        median(&mut self.0[i].clone())
    }

    /// The median over rounds of `base`'s measurement over `i`'s in the
    /// same round: paired, so that load changing between rounds cancels.
    fn ratio(&self, base: usize, i: usize) -> f64 {
        let mut ratios: Vec<f64> = self.0[base]
            .iter()
            .zip(&self.0[i])
            .map(|(b, x)| b / x)
            .collect();
        median(&mut ratios)
    }
}

/// Runs each contender once per round, rotating who goes first; returns
/// `measure`'s result of every run after the warm-up rounds.
fn rounds_of<T>(
    contenders: &[(&str, &dyn Fn() -> T)],
    rounds: usize,
    mut measure: impl FnMut(&str, std::time::Duration, T) -> f64,
) -> Samples {
    let n = contenders.len();
    let mut results = vec![Vec::with_capacity(rounds); n];
    for round in 0..WARMUP + rounds {
        for turn in 0..n {
            let i = (round + turn) % n;
            let (name, run) = contenders[i];
            let start = Instant::now();
            let out = run();
            let elapsed = start.elapsed();
            let value = measure(name, elapsed, out);
            if round >= WARMUP {
                results[i].push(value);
            }
        }
    }
    Samples(results)
}

// ---------------------------------------------------------------------------
// Whole map

/// The per-key baseline: `bpf_map_get_next_key` then `bpf_map_lookup_elem`
/// for each key, straight through libbpf-sys, into a vector.
fn raw_per_key(fd: i32) -> Vec<(u32, u64)> {
    let mut out = Vec::with_capacity(ENTRIES as usize);
    let (mut next, mut value) = (0u32, 0u64);
    let mut key: u32;
    let mut prev: *const u32 = std::ptr::null();
    loop {
        // SAFETY: `prev` is NULL or `key`, `next` a u32: the map's key size.
        let ret = unsafe { sys::bpf_map_get_next_key(fd, prev.cast(), (&raw mut next).cast()) };
        if ret != 0 {
            break;
        }
        key = next;
        prev = &raw const key;
        // SAFETY: a u32 key and a u64 value: the map's sizes.
        let ret = unsafe {
            sys::bpf_map_lookup_elem(fd, (&raw const key).cast(), (&raw mut value).cast())
        };
        if ret == 0 {
            out.push((key, value));
        }
    }
    out
}

/// The floor: `bpf_map_lookup_batch` straight through libbpf-sys, with
/// buffers for the whole map, so normally one call and then `ENOENT`.
fn raw_batch(fd: i32, max_entries: usize) -> Vec<(u32, u64)> {
    let (mut keys, mut values) = (vec![0u32; max_entries], vec![0u64; max_entries]);
    let (mut token, mut total) = (0u64, 0usize);
    let mut started = false;
    loop {
        let mut count = (max_entries - total) as u32;
        let in_batch: *mut u64 = if started {
            &raw mut token
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: the buffers hold `count` more keys and values; the token
        // holds the kernel's 4-byte bucket index.
        let ret = unsafe {
            sys::bpf_map_lookup_batch(
                fd,
                in_batch.cast(),
                (&raw mut token).cast(),
                keys[total..].as_mut_ptr().cast(),
                values[total..].as_mut_ptr().cast(),
                &mut count,
                std::ptr::null(),
            )
        };
        total += count as usize;
        started = true;
        if ret != 0 || total == max_entries {
            break;
        }
    }
    keys.into_iter().zip(values).take(total).collect()
}

fn whole_map(map: &HashMap<u32, u64>, handle: &MapHandle, rounds: usize, expected: (usize, u64)) {
    let fd = map.as_fd().as_raw_fd();
    let batched = || map.entries_batched().expect("entries_batched");
    let streamed = || {
        map.iter_batched(4096)
            .collect::<Result<Vec<_>, _>>()
            .expect("iter_batched")
    };
    let typed_iter = || map.iter().collect::<Result<Vec<_>, _>>().expect("iter");
    let per_key = || raw_per_key(fd);
    let libbpf_rs_batch = || {
        let entries = handle
            .lookup_batch(4096, MapFlags::ANY, MapFlags::ANY)
            .expect("lookup_batch");
        entries
            .map(|(k, v)| {
                let key = u32::from_ne_bytes(k[..4].try_into().expect("4-byte key"));
                (
                    key,
                    u64::from_ne_bytes(v[..8].try_into().expect("8-byte value")),
                )
            })
            .collect::<Vec<_>>()
    };
    let max_entries = map.info().max_entries as usize;
    let floor = || raw_batch(fd, max_entries);
    let contenders: [(&str, &dyn Fn() -> Entries); 6] = [
        ("HashMap::entries_batched (typed, batches)", &batched),
        ("HashMap::iter_batched(4096) (typed, streaming)", &streamed),
        (
            "per-key loop: get_next_key + lookup_elem (libbpf-sys)",
            &per_key,
        ),
        ("HashMap::iter (typed, get_next_key + lookup)", &typed_iter),
        ("libbpf-rs lookup_batch(4096)", &libbpf_rs_batch),
        ("raw bpf_map_lookup_batch, whole map (libbpf-sys)", &floor),
    ];
    // libbpf-rs takes a short batch (the next hash bucket did not fit) for
    // the last one and stops early: its row shows how much it read.
    let mut read = vec![0; contenders.len()];
    let ms = rounds_of(&contenders, rounds, |name, elapsed, entries| {
        let got = checksum(entries.iter().copied());
        let i = contenders.iter().position(|c| c.0 == name).unwrap_or(0);
        read[i] = got.0;
        if !name.starts_with("libbpf-rs") {
            assert_eq!(got, expected, "{name} read the whole map");
        }
        black_box(entries);
        elapsed.as_secs_f64() * 1e3
    });
    const BASE: usize = 2;
    println!(
        "Whole-map read of a {ENTRIES}-entry hash map (u32 -> u64), median of {rounds} rounds"
    );
    println!(
        "  {:<56} {:>10} {:>16} {:>9}",
        "contender", "ms", "vs per-key loop", "entries"
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        let (ms, ratio) = (ms.median(i), ms.ratio(BASE, i));
        if read[i] == ENTRIES as usize {
            println!("  {name:<56} {ms:>10.2} {ratio:>15.1}x {:>9}", read[i]);
        } else {
            println!(
                "  {name:<56} {ms:>10.2} {:>16} {:>9}",
                "(incomplete)", read[i]
            );
        }
    }
    let ratio = ms.ratio(BASE, 0);
    println!(
        "  goal: the batched read at least 8x faster than the per-key loop: {ratio:.1}x, {}",
        if ratio >= 8.0 { "met" } else { "NOT met" }
    );
    let floor = ms.ratio(contenders.len() - 1, 0);
    println!(
        "  the typed batched read takes {:+.1}% of the time of the raw batch call",
        (1.0 / floor - 1.0) * 100.0
    );
}

// ---------------------------------------------------------------------------
// Single lookup

fn single_lookup(map: &HashMap<u32, u64>, handle: &MapHandle, rounds: usize) {
    let fd = map.as_fd().as_raw_fd();
    // Keys spread over the map, the same sequence for every contender.
    let keys: Vec<u32> = (0..LOOKUPS_PER_ROUND as u32)
        .map(|i| i.wrapping_mul(7919) % ENTRIES)
        .collect();
    let raw = || {
        let mut acc = 0u64;
        for key in &keys {
            let mut value = 0u64;
            // SAFETY: a u32 key and a u64 value: the map's sizes.
            let ret = unsafe {
                sys::bpf_map_lookup_elem(fd, (key as *const u32).cast(), (&raw mut value).cast())
            };
            assert_eq!(ret, 0);
            acc = acc.wrapping_add(value);
        }
        acc
    };
    let typed = || {
        let mut acc = 0u64;
        for key in &keys {
            acc = acc.wrapping_add(map.get(black_box(key)).expect("get").expect("present"));
        }
        acc
    };
    let bytes = || {
        let mut acc = 0u64;
        for key in &keys {
            let value = map
                .map()
                .lookup(&key.to_ne_bytes())
                .expect("lookup")
                .expect("present");
            acc = acc.wrapping_add(u64::from_ne_bytes(value[..8].try_into().expect("8 bytes")));
        }
        acc
    };
    let libbpf_rs = || {
        let mut acc = 0u64;
        for key in &keys {
            let value = handle
                .lookup(&key.to_ne_bytes(), MapFlags::ANY)
                .expect("lookup")
                .expect("present");
            acc = acc.wrapping_add(u64::from_ne_bytes(value[..8].try_into().expect("8 bytes")));
        }
        acc
    };
    let expected: u64 = keys
        .iter()
        .fold(0u64, |acc, &k| acc.wrapping_add(value_of(k)));
    let contenders: [(&str, &dyn Fn() -> u64); 4] = [
        ("raw bpf_map_lookup_elem (libbpf-sys)", &raw),
        ("HashMap::get (typed)", &typed),
        ("Map::lookup (bytes, allocates a Vec)", &bytes),
        ("libbpf-rs MapHandle::lookup", &libbpf_rs),
    ];
    let ns = rounds_of(&contenders, rounds, |name, elapsed, acc| {
        assert_eq!(acc, expected, "{name} read every value");
        elapsed.as_nanos() as f64 / LOOKUPS_PER_ROUND as f64
    });
    println!(
        "Single lookup in the same map, median of {rounds} rounds of {LOOKUPS_PER_ROUND} lookups"
    );
    println!("  {:<56} {:>10} {:>16}", "contender", "ns/lookup", "vs raw");
    for (i, (name, _)) in contenders.iter().enumerate() {
        let over = (1.0 / ns.ratio(0, i) - 1.0) * 100.0;
        println!("  {name:<56} {:>10.1} {over:>+15.1}%", ns.median(i));
    }
    let over = (1.0 / ns.ratio(0, 1) - 1.0) * 100.0;
    println!(
        "  goal: HashMap::get within 5% of the raw call: {over:+.1}%, {}",
        if over <= 5.0 { "met" } else { "NOT met" }
    );
}
