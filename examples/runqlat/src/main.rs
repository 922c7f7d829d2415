//! runqlat: how long threads wait on the run queue before they run, as a
//! log2 histogram of microseconds, one per interval. In a terminal the
//! histogram is redrawn in place; piped, each interval's follows the last.
//!
//! Usage: `runqlat [--pid PID] [--interval SECS] [--count N]` (as root).
//! The program counts into a global array; this reads it through the
//! mapping, with no system call, and prints each interval's difference.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

ebpf_skeleton::ebpf_skeleton!("$OUT_DIR/runqlat.bpf.o");

/// Set by SIGINT and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

const USAGE: &str = "usage: runqlat [--pid PID] [--interval SECS] [--count N]";
/// The width of the longest bar.
const BAR: u64 = 40;

struct Args {
    pid: Option<u32>,
    interval: Duration,
    count: Option<u64>,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("runqlat: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("runqlat: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        pid: None,
        interval: Duration::from_secs(1),
        count: None,
    };
    while let Some(arg) = it.next() {
        let value = it.next().ok_or(format!("{arg} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{arg} {value}: {e}");
        match arg.as_str() {
            "--pid" | "-p" => args.pid = Some(value.parse().map_err(|e| bad(&e))?),
            "--count" | "-c" => args.count = Some(value.parse().map_err(|e| bad(&e))?),
            "--interval" | "-i" => {
                let secs: f64 = value.parse().map_err(|e| bad(&e))?;
                args.interval = Duration::try_from_secs_f64(secs).map_err(|e| bad(&e))?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn run(args: &Args) -> ebpf_skeleton::Result<()> {
    // SAFETY: the handler only stores to an atomic, which is signal-safe.
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    let mut specs = runqlat::Specs::new()?;
    specs.rodata.target_tgid = args.pid.unwrap_or(0);
    let objs = specs.load()?;
    let _links = objs.attach()?;
    let redraw = std::io::stdout().is_terminal();
    let who = args
        .pid
        .map_or("every process".to_owned(), |p| format!("pid {p}"));
    println!("tracing run queue latency of {who}; Ctrl-C to stop");

    let mut before = objs.bss.hist.get();
    let mut n = 0;
    while !STOP.load(Ordering::Relaxed) && args.count.is_none_or(|count| n < count) {
        sleep(args.interval);
        let now = objs.bss.hist.get();
        let delta: Vec<u64> = now.iter().zip(&before).map(|(a, b)| a - b).collect();
        before = now;
        n += 1;
        let mut out = String::new();
        if redraw {
            out.push_str("\x1b[H\x1b[2J"); // home, clear: draw in place
        }
        out.push_str(&format!(
            "run queue latency of {who}, interval {n}: {} waits\n",
            delta.iter().sum::<u64>()
        ));
        out.push_str(&histogram(&delta));
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break; // the reader went away
        }
    }
    Ok(())
}

/// Sleeps for `total`, waking early when told to stop.
fn sleep(total: Duration) {
    let start = Instant::now();
    while !STOP.load(Ordering::Relaxed) && start.elapsed() < total {
        std::thread::sleep((total - start.elapsed()).min(Duration::from_millis(50)));
    }
}

/// The rows from slot 0 to the last non-empty one, each with a bar scaled
/// to the fullest slot.
fn histogram(slots: &[u64]) -> String {
    let mut out = format!("{:^24} : {:<8} distribution\n", "usecs", "count");
    let Some(last) = slots.iter().rposition(|&c| c > 0) else {
        return out;
    };
    let max = slots.iter().copied().max().unwrap_or(1).max(1);
    for (k, &count) in slots.iter().enumerate().take(last + 1) {
        let low = if k == 0 { 0 } else { 1u64 << k };
        let high = (1u64 << (k + 1)) - 1;
        let stars = (count * BAR).div_ceil(max) as usize;
        out.push_str(&format!(
            "{low:>10} -> {high:<10} : {count:<8} |{:<width$}|\n",
            "*".repeat(stars),
            width = BAR as usize
        ));
    }
    out
}
