//! opensnoop: the files processes open, as they open them, with the
//! descriptor or the error they got.
//!
//! Usage: `opensnoop [--pid PID] [--uid UID] [--duration SECS]` (as root).
//! The filters are read-only globals set before load, so the verifier
//! removes the checks of those not given. Runs until `--duration` ends or
//! Ctrl-C.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

ebpf_skeleton::ebpf_skeleton!("$OUT_DIR/opensnoop.bpf.o", types = [open_event]);

use opensnoop::types::OpenEvent;

/// Set by SIGINT and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

const USAGE: &str = "usage: opensnoop [--pid PID] [--uid UID] [--duration SECS]";

#[derive(Default)]
struct Args {
    pid: Option<u32>,
    uid: Option<u32>,
    duration: Option<Duration>,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("opensnoop: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opensnoop: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args::default();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--pid" | "-p" => args.pid = Some(number(&value()?, "--pid")?),
            "--uid" | "-u" => args.uid = Some(number(&value()?, "--uid")?),
            "--duration" | "-d" => {
                let secs: f64 = value()?.parse().map_err(|e| format!("--duration: {e}"))?;
                args.duration = Some(
                    Duration::try_from_secs_f64(secs).map_err(|e| format!("--duration: {e}"))?,
                );
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn number(text: &str, name: &str) -> Result<u32, String> {
    text.parse().map_err(|e| format!("{name} {text}: {e}"))
}

fn run(args: &Args) -> ebpf_skeleton::Result<()> {
    // SAFETY: the handler only stores to an atomic, which is signal-safe.
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    let mut specs = opensnoop::Specs::new()?;
    specs.rodata.target_pid = args.pid.unwrap_or(0);
    specs.rodata.target_uid = args.uid.unwrap_or(u32::MAX);
    let objs = specs.load()?;
    let _links = objs.attach()?;
    let mut events = objs.maps.events.reader()?;

    println!(
        "{:>7} {:>6} {:<16} {:>4} {:>3} PATH",
        "PID", "UID", "COMM", "FD", "ERR"
    );
    let start = Instant::now();
    let left = || args.duration.map(|d| d.saturating_sub(start.elapsed()));
    while !STOP.load(Ordering::Relaxed) && left() != Some(Duration::ZERO) {
        let wait = left()
            .unwrap_or(Duration::MAX)
            .min(Duration::from_millis(100));
        events.poll(Some(wait))?;
        while let Some(e) = events.next_as::<OpenEvent>()? {
            // A closed pipe (`opensnoop | head`) ends the tool quietly.
            if writeln!(std::io::stdout(), "{}", line(&e)).is_err() {
                return Ok(());
            }
        }
    }
    let dropped = objs.bss.dropped.get();
    if dropped > 0 {
        eprintln!("opensnoop: {dropped} events dropped (ring buffer full)");
    }
    Ok(())
}

/// One open: a descriptor (`FD`) or an errno (`ERR`), as bcc's opensnoop.
fn line(e: &OpenEvent) -> String {
    let (fd, err) = if e.ret >= 0 { (e.ret, 0) } else { (-1, -e.ret) };
    format!(
        "{:>7} {:>6} {:<16} {fd:>4} {err:>3} {}",
        e.pid,
        e.uid,
        text(&e.comm),
        text(&e.path)
    )
}

/// A NUL-terminated C string as text.
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
