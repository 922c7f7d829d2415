//! `cargo bench -p ebpf-skeleton-bench --bench globals`: reading a `.bss`
//! global after load through the skeleton's mapped view, against the same
//! read as a map lookup system call (what a library without the mmap view
//! has to do). Goal: no system call, about a nanosecond a read.

use std::hint::black_box;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton_bench::median;

ebpf_skeleton::ebpf_skeleton!("../../tests/bpf/types.bpf.o");

const ROUNDS: usize = 21;
const VIEW_READS: u64 = 10_000_000;
const SYSCALL_READS: u64 = 20_000;

fn main() {
    let objs = types::Objects::load().expect("load types.bpf.o");
    // The program bumps `runs`; the reads below must see its value.
    objs.programs
        .fill
        .test_run(None)
        .expect("run the program once");
    assert_eq!(objs.bss.runs.get(), 1);

    let bss = objs.bss.map();
    let size = bss.info().value_size as usize;
    let mut value = vec![0u8; size];
    let offset = std::mem::offset_of!(types::Bss, runs);

    let (mut view, mut syscall) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut sum = 0u64;
        for _ in 0..VIEW_READS {
            sum = sum.wrapping_add(black_box(&objs.bss.runs).get());
        }
        view.push(start.elapsed().as_nanos() as f64 / VIEW_READS as f64);
        assert_eq!(black_box(sum), VIEW_READS);

        let start = Instant::now();
        let mut sum = 0u64;
        for _ in 0..SYSCALL_READS {
            let key = 0u32;
            // SAFETY: key and value buffers of the map's sizes.
            let ret = unsafe {
                sys::bpf_map_lookup_elem(
                    bss.as_fd().as_raw_fd(),
                    (&key as *const u32).cast(),
                    value.as_mut_ptr().cast(),
                )
            };
            assert_eq!(ret, 0);
            sum += u64::from_ne_bytes(value[offset..offset + 8].try_into().unwrap());
        }
        syscall.push(start.elapsed().as_nanos() as f64 / SYSCALL_READS as f64);
        assert_eq!(sum, SYSCALL_READS);
    }
    let (view, syscall) = (median(&mut view), median(&mut syscall));
    println!("Reading a .bss u64 after load; medians over {ROUNDS} rounds.");
    println!();
    println!("| read | ns/read | vs view |");
    println!("|---|---:|---:|");
    println!("| `objs.bss.runs.get()` (volatile read of the mmap) | {view:.2} | 1.0x |");
    println!(
        "| `bpf_map_lookup_elem` on the .bss map (syscall) | {syscall:.1} | {:.0}x slower |",
        syscall / view
    );
}
