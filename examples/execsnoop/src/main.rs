//! execsnoop: every exec on the machine as it happens (pid, ppid, uid, comm,
//! filename), read from a ring buffer, and a summary table at the end.
//!
//! Usage: `execsnoop [--duration SECS] [--uid UID]` (as root). Stops after
//! `--duration` seconds (default 10) or at Ctrl-C.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

ebpf_skeleton::ebpf_skeleton!("../bpf/execsnoop.bpf.o", types = [event]);

use execsnoop::types::Event;

/// Set by SIGINT and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

struct Args {
    duration: Duration,
    uid: Option<u32>,
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}\nusage: execsnoop [--duration SECS] [--uid UID]");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("execsnoop: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        duration: Duration::from_secs(10),
        uid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--duration" | "-d" => {
                let secs: f64 = value("--duration")?
                    .parse()
                    .map_err(|e| format!("--duration: {e}"))?;
                args.duration =
                    Duration::try_from_secs_f64(secs).map_err(|e| format!("--duration: {e}"))?;
            }
            "--uid" | "-u" => {
                args.uid = Some(value("--uid")?.parse().map_err(|e| format!("--uid: {e}"))?)
            }
            "--help" | "-h" => return Err("execsnoop: print every exec on the machine".into()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn run(args: &Args) -> ebpf_skeleton::Result<()> {
    // SAFETY: the handler only stores to an atomic, which is signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
    let mut specs = execsnoop::Specs::new()?;
    // A constant the verifier sees: filtering costs nothing when off.
    specs.rodata.target_uid = args.uid.map_or(-1, i64::from);
    let objs = specs.load()?;
    let _links = objs.attach()?;
    let mut events = objs.maps.events.reader()?;

    println!(
        "{:>8} {:>7} {:>7} {:>6} {:<16} FILENAME",
        "TIME(s)", "PID", "PPID", "UID", "COMM"
    );
    let start = Instant::now();
    let mut by_comm: HashMap<String, u64> = HashMap::new();
    let mut seen = 0u64;
    while !STOP.load(Ordering::Relaxed) && start.elapsed() < args.duration {
        let left = args.duration.saturating_sub(start.elapsed());
        events.poll(Some(left.min(Duration::from_millis(200))))?;
        while let Some(ev) = events.next_as::<Event>()? {
            let comm = text(&ev.comm);
            println!(
                "{:>8.3} {:>7} {:>7} {:>6} {:<16} {}",
                start.elapsed().as_secs_f64(),
                ev.pid,
                ev.ppid,
                ev.uid,
                comm,
                text(&ev.filename)
            );
            *by_comm.entry(comm).or_default() += 1;
            seen += 1;
        }
    }
    summary(
        &by_comm,
        seen,
        objs.bss.total_execs.get(),
        objs.bss.dropped_events.get(),
        start.elapsed(),
    );
    Ok(())
}

/// A NUL-terminated C string as text.
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn summary(
    by_comm: &HashMap<String, u64>,
    seen: u64,
    counted: u64,
    dropped: u64,
    elapsed: Duration,
) {
    let mut rows: Vec<_> = by_comm.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    println!("\n--- {seen} execs in {:.1} s ---", elapsed.as_secs_f64());
    println!("{:<16} {:>8}", "COMM", "EXECS");
    for (comm, count) in rows.iter().take(15) {
        println!("{comm:<16} {count:>8}");
    }
    if rows.len() > 15 {
        println!("({} more commands)", rows.len() - 15);
    }
    println!("kernel counted {counted} execs, {dropped} events dropped (ring buffer full)");
}
