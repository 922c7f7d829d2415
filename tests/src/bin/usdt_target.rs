//! A small target for the USDT tests: a process of its own with USDT probes
//! built in. It waits for a line on stdin (so that a test can attach to its
//! pid first), then fires `ebpf_skeleton_target:tick` N times with the
//! iteration as argument, and the lazy probe `ebpf_skeleton_target:lazy`,
//! whose semaphore says whether anything is attached; it prints how many
//! times the lazy probe was enabled.

use std::io::BufRead;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("usage: usdt_target N");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
    let mut enabled = 0u64;
    for i in 0..n {
        probe::probe!(ebpf_skeleton_target, tick, i);
        if probe::probe_lazy!(ebpf_skeleton_target, lazy, i) {
            enabled += 1;
        }
    }
    println!("{enabled}");
}
