//! runqlat against the running kernel: this process's threads sleep and
//! wake many times while the tool watches this process, and every wait
//! after a wakeup must be in its histograms.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Each row `low -> high : count |bar|`: `(low, high, count)`.
fn rows(text: &str) -> Vec<(u64, u64, u64)> {
    text.lines()
        .filter(|l| l.contains(" -> ") && l.contains('|'))
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            let num = |i: usize| {
                parts[i]
                    .parse::<u64>()
                    .unwrap_or_else(|e| panic!("{l}: {e}"))
            };
            (num(0), num(2), num(4))
        })
        .collect()
}

/// The calling thread's voluntary context switches so far, as the kernel
/// counts them.
fn voluntary_switches() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .expect("voluntary_ctxt_switches in /proc/thread-self/status")
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_thread_that_sleeps_a_thousand_times_waits_a_thousand_times() {
    const SLEEPS: u64 = 1000;
    let pid = std::process::id();
    let mut tool = Command::new(env!("CARGO_BIN_EXE_runqlat"))
        .args([
            "--pid",
            &pid.to_string(),
            "--interval",
            "1.5",
            "--count",
            "2",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting runqlat");
    let mut stdout = BufReader::new(tool.stdout.take().unwrap());
    // Its first line comes once it is attached.
    let mut text = String::new();
    stdout.read_line(&mut text).unwrap();
    assert_eq!(
        text,
        format!("tracing run queue latency of pid {pid}; Ctrl-C to stop\n")
    );
    // A sleep whose timer fires before its thread is off the CPU (seen
    // under emulation) never blocks, so it has no wakeup to wait after: the
    // kernel's count of the thread's voluntary switches says how many did.
    let sleeper = std::thread::spawn(|| {
        let before = voluntary_switches();
        for _ in 0..SLEEPS {
            std::thread::sleep(Duration::from_micros(200));
        }
        voluntary_switches() - before
    });
    let blocked = sleeper.join().unwrap();
    println!("{blocked} of {SLEEPS} sleeps blocked");
    stdout.read_to_string(&mut text).unwrap();
    let status = tool.wait().expect("runqlat");
    assert!(status.success(), "{status}: {text}");

    // Two histograms, each with its total, and rows that add up to it.
    let totals: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_suffix(" waits")?.rsplit(": ").next()?.parse().ok())
        .collect();
    assert_eq!(totals.len(), 2, "{text}");
    let rows = rows(&text);
    assert_eq!(
        rows.iter().map(|r| r.2).sum::<u64>(),
        totals.iter().sum::<u64>(),
        "{text}"
    );
    // Each sleep that blocked ends in a wakeup and then a switch to the
    // thread; most of them block.
    assert!(blocked > SLEEPS / 2, "{blocked} of {SLEEPS} sleeps blocked");
    assert!(
        totals.iter().sum::<u64>() >= blocked,
        "{blocked} sleeps blocked:\n{text}"
    );
    // The slots are powers of two, the first from 0.
    for &(low, high, _) in &rows {
        assert!(
            low == 0 && high == 1 || low.is_power_of_two() && high == 2 * low - 1,
            "{low} -> {high}"
        );
    }
}
