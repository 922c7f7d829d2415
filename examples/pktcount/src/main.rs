//! pktcount: packets and bytes an interface receives, per IP protocol,
//! with per-second rates, in a table redrawn in place each interval (piped,
//! each interval's table follows the last).
//!
//! Usage: `pktcount [--iface NAME] [--interval SECS] [--count N]` (as
//! root; default `lo`, every second, until Ctrl-C). The program is attached
//! with tcx (or as a classic tc filter before Linux 6.6), and lets other
//! programs on the interface run too.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

ebpf_skeleton::ebpf_skeleton!("$OUT_DIR/pktcount.bpf.o");

use ebpf_skeleton::link::TcOptions;
use ebpf_skeleton::Link;
use pktcount::types::Counter;

/// Set by SIGINT and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

const USAGE: &str = "usage: pktcount [--iface NAME] [--interval SECS] [--count N]";
/// The program's slot for frames that are not IP.
const NOT_IP: u32 = 255;

struct Args {
    iface: String,
    interval: Duration,
    count: Option<u64>,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("pktcount: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pktcount: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        iface: "lo".to_owned(),
        interval: Duration::from_secs(1),
        count: None,
    };
    while let Some(arg) = it.next() {
        let value = it.next().ok_or(format!("{arg} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{arg} {value}: {e}");
        match arg.as_str() {
            "--iface" | "-i" => args.iface = value,
            "--count" | "-c" => args.count = Some(value.parse().map_err(|e| bad(&e))?),
            "--interval" => {
                let secs: f64 = value.parse().map_err(|e| bad(&e))?;
                args.interval = Duration::try_from_secs_f64(secs).map_err(|e| bad(&e))?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let ifindex = ifindex(&args.iface)?;
    // SAFETY: the handler only stores to an atomic, which is signal-safe.
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    let objs = pktcount::Objects::load()?;
    let _link = attach(&objs.programs.count_packets, ifindex)?;
    let redraw = std::io::stdout().is_terminal();
    // The first interval counts from here: take its baseline before saying
    // so, or packets sent on that word would fall before it.
    let mut before = read(&objs)?;
    let mut last = Instant::now();
    println!(
        "counting packets received on {}; Ctrl-C to stop",
        args.iface
    );
    let mut n = 0;
    while !STOP.load(Ordering::Relaxed) && args.count.is_none_or(|count| n < count) {
        sleep(args.interval);
        let now = read(&objs)?;
        let elapsed = last.elapsed().as_secs_f64();
        last = Instant::now();
        n += 1;
        let mut out = String::new();
        if redraw {
            out.push_str("\x1b[H\x1b[2J"); // home, clear: draw in place
        }
        out.push_str(&table(&args.iface, n, elapsed, &before, &now));
        before = now;
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

/// With tcx (Linux 6.6), which lets other programs on the interface run
/// in order; on kernels without it, as a classic tc filter.
fn attach(program: &ebpf_skeleton::Program, ifindex: u32) -> ebpf_skeleton::Result<Link> {
    program.attach_tcx(ifindex).or_else(|tcx| {
        program
            .attach_tc(ifindex, &TcOptions::ingress())
            .map_err(|_| tcx)
    })
}

fn ifindex(name: &str) -> Result<u32, String> {
    let c_name = CString::new(name).map_err(|_| format!("`{name}` is not an interface name"))?;
    // SAFETY: a valid C string.
    match unsafe { libc::if_nametoindex(c_name.as_ptr()) } {
        0 => Err(format!("no interface named `{name}`")),
        index => Ok(index),
    }
}

/// Every protocol seen so far, with its counter.
fn read(objs: &pktcount::Objects) -> ebpf_skeleton::Result<BTreeMap<u32, Counter>> {
    let mut seen = BTreeMap::new();
    for protocol in 0..objs.maps.counts.len() {
        if let Some(c) = objs.maps.counts.get(protocol)? {
            if c.packets > 0 {
                seen.insert(protocol, c);
            }
        }
    }
    Ok(seen)
}

fn sleep(total: Duration) {
    let start = Instant::now();
    while !STOP.load(Ordering::Relaxed) && start.elapsed() < total {
        std::thread::sleep((total - start.elapsed()).min(Duration::from_millis(50)));
    }
}

/// Totals and the rates since the last table, by protocol.
fn table(
    iface: &str,
    n: u64,
    secs: f64,
    before: &BTreeMap<u32, Counter>,
    now: &BTreeMap<u32, Counter>,
) -> String {
    let mut out = format!("{iface} ingress, interval {n} ({secs:.2} s)\n");
    out.push_str(&format!(
        "{:<10} {:>12} {:>14} {:>10} {:>12}\n",
        "PROTO", "PACKETS", "BYTES", "PKT/S", "BYTES/S"
    ));
    for (&protocol, c) in now {
        let old = before
            .get(&protocol)
            .map_or((0, 0), |o| (o.packets, o.bytes));
        let rate = |new: u64, old: u64| (new - old) as f64 / secs;
        out.push_str(&format!(
            "{:<10} {:>12} {:>14} {:>10.1} {:>12.1}\n",
            name(protocol),
            c.packets,
            c.bytes,
            rate(c.packets, old.0),
            rate(c.bytes, old.1)
        ));
    }
    out
}

/// IANA's keyword for the protocols one meets on a host.
fn name(protocol: u32) -> String {
    match protocol {
        NOT_IP => "non-ip".to_owned(),
        0 => "hopopt".to_owned(),
        1 => "icmp".to_owned(),
        2 => "igmp".to_owned(),
        6 => "tcp".to_owned(),
        17 => "udp".to_owned(),
        47 => "gre".to_owned(),
        50 => "esp".to_owned(),
        58 => "ipv6-icmp".to_owned(),
        132 => "sctp".to_owned(),
        other => format!("proto-{other}"),
    }
}
