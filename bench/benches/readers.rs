//! `cargo bench -p ebpf-skeleton-bench` (or `./x bench`): records drained
//! per second from a pre-filled ring, for 8, 64 and 256-byte records, by
//! this crate's readers, libbpf's C consumers and libbpf-rs, in one run.
//!
//! `EBPF_BENCH_ROUNDS` sets the rounds per record size (default 21).

use std::cell::Cell;

use ebpf_skeleton_bench::*;

const WARMUP: usize = 3;

struct Row {
    name: &'static str,
    records: usize,
    ns: f64,
}

fn main() {
    let rounds = bench_rounds();
    let cpu = bench_cpu();
    pin_to(cpu);
    let objs = Objects::load().expect("load bench.bpf.o (run as root)");
    println!(
        "Drain a pre-filled ring: median of {rounds} rounds per record size, readers taking turns \
         within each round (on CPU {cpu}); every reader folds each record's first word and length."
    );

    // Ring buffers: one 4 MiB ring per reader.
    let (count, acc) = (Cell::new(0), Cell::new(0));
    let handle = libbpf_rs::MapHandle::from_map_id(objs.maps.ring2.info().id).expect("MapHandle");
    let mut contenders: Vec<Box<dyn Contender>> = vec![
        Box::new(OurRingBuf(objs.maps.ring0.reader().expect("RingBufReader"))),
        Box::new(OurRingBufNext(
            objs.maps.ring3.reader().expect("RingBufReader"),
        )),
        Box::new(LibbpfRingBuf::new(objs.maps.ring1.map())),
        Box::new(LibbpfRsRingBuf::new(&handle, &count, &acc)),
    ];
    let mut rows = Vec::new();
    for size in RECORD_SIZES {
        let mut written = 0;
        let results = measure(&mut contenders, rounds, WARMUP, |ring| {
            written = run_on(
                &objs.programs.fill_ringbuf,
                cpu,
                &[1 << 22, size as u64, ring],
            );
            written
        });
        rows.push((size, collect(&contenders, results, written as usize)));
    }
    drop(contenders);
    report("Ring buffer (BPF_MAP_TYPE_RINGBUF, 4 MiB)", &rows, 1, 2, 3);
    let ring_rows = rows;

    // Perf buffers: one 1 MiB ring per CPU and reader; the benchmark's CPU's are filled.
    let (count, acc) = (Cell::new(0), Cell::new(0));
    let handle = libbpf_rs::MapHandle::from_map_id(objs.maps.perf2.info().id).expect("MapHandle");
    let mut contenders: Vec<Box<dyn Contender>> = vec![
        Box::new(OurPerf::new(objs.maps.perf0.map())),
        Box::new(OurPerfNext::new(objs.maps.perf3.map())),
        Box::new(LibbpfPerf::new(objs.maps.perf1.map())),
        Box::new(LibbpfRsPerf::new(&handle, &count, &acc)),
    ];
    let mut rows = Vec::new();
    for size in RECORD_SIZES {
        let mut written = 0;
        let results = measure(&mut contenders, rounds, WARMUP, |ring| {
            written = run_on(&objs.programs.fill_perf, cpu, &[1 << 22, size as u64, ring]);
            written
        });
        rows.push((size, collect(&contenders, results, written as usize)));
    }
    drop(contenders);
    report(
        &format!("Perf buffer (BPF_MAP_TYPE_PERF_EVENT_ARRAY, {PERF_PAGES} pages per CPU)"),
        &rows,
        1,
        2,
        3,
    );

    goals(&ring_rows, &rows);
}

fn collect(
    contenders: &[Box<dyn Contender + '_>],
    results: Vec<Vec<f64>>,
    records: usize,
) -> Vec<Row> {
    contenders
        .iter()
        .zip(results)
        .map(|(c, mut ns)| Row {
            name: c.name(),
            records,
            ns: median(&mut ns),
        })
        .collect()
}

/// Prints one table; rows are compared with the rows at `c` (libbpf C) and
/// `rs` (libbpf-rs). `ours_last` is the last row of this crate's readers.
fn report(title: &str, rows: &[(usize, Vec<Row>)], ours_last: usize, c: usize, rs: usize) {
    println!("\n{title}");
    println!(
        "| record | reader                                | records/round | ns/record | M records/s | vs libbpf C | vs libbpf-rs |"
    );
    println!(
        "|-------:|:--------------------------------------|--------------:|----------:|------------:|------------:|-------------:|"
    );
    for (size, group) in rows {
        for (i, row) in group.iter().enumerate() {
            let ratio = |other: usize| {
                if i == other || i > ours_last {
                    if i == other {
                        "1.00x".to_owned()
                    } else {
                        format!("{:.2}x", group[other].ns / row.ns)
                    }
                } else {
                    format!("**{:.2}x**", group[other].ns / row.ns)
                }
            };
            println!(
                "| {:>4} B | {:<37} | {:>13} | {:>9.2} | {:>11.1} | {:>11} | {:>12} |",
                size,
                row.name,
                row.records,
                row.ns,
                1e3 / row.ns,
                ratio(c),
                ratio(rs)
            );
        }
    }
}

/// The goals at 8-byte records: at least 1.25x libbpf's C consumer,
/// 1.5x libbpf-rs, and about 10 ns per record at most.
fn goals(ring: &[(usize, Vec<Row>)], perf: &[(usize, Vec<Row>)]) {
    println!("\nGoals at 8-byte records (>= 1.25x libbpf C, >= 1.5x libbpf-rs, <= ~10 ns/record):");
    let check = |what: &str, group: &[Row], c: usize, rs: usize| {
        let ours = &group[0];
        let (vs_c, vs_rs) = (group[c].ns / ours.ns, group[rs].ns / ours.ns);
        let met = vs_c >= 1.25 && vs_rs >= 1.5 && ours.ns <= 10.0;
        println!(
            "  {what}: {:.2} ns/record, {vs_c:.2}x libbpf C, {vs_rs:.2}x libbpf-rs: {}",
            ours.ns,
            if met { "met" } else { "NOT met" }
        );
    };
    check("ring buffer", &ring[0].1, 2, 3);
    check("perf buffer", &perf[0].1, 2, 3);
    // Issue 8: the exclusive readers keep `drain` ahead of libbpf's C
    // consumer at every size measured.
    println!("\n`drain` at every record size (>= 1.25x libbpf C):");
    for (what, rows) in [("ring buffer", ring), ("perf buffer", perf)] {
        for (size, group) in rows {
            let vs_c = group[2].ns / group[0].ns;
            println!(
                "  {what}, {size} B: {:.2} ns/record, {vs_c:.2}x libbpf C: {}",
                group[0].ns,
                if vs_c >= 1.25 { "met" } else { "NOT met" }
            );
        }
    }
}
