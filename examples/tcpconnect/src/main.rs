//! tcpconnect: the TCP connections processes on this machine open, as they
//! complete (or are refused), with addresses, ports and connect latency.
//!
//! Usage: `tcpconnect [--duration SECS]` (as root). Runs until the
//! duration ends or Ctrl-C.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

ebpf_skeleton::ebpf_skeleton!("$OUT_DIR/tcpconnect.bpf.o", types = [connect_event]);

use tcpconnect::types::ConnectEvent;

/// Set by SIGINT and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// `AF_INET`, the family of IPv4 sockets.
const AF_INET: u16 = 2;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let duration = match (args.next().as_deref(), args.next()) {
        (None, _) => None,
        (Some("--duration" | "-d"), Some(secs)) => {
            match secs
                .parse()
                .map_err(|e| format!("{e}"))
                .and_then(|s| Duration::try_from_secs_f64(s).map_err(|e| format!("{e}")))
            {
                Ok(duration) => Some(duration),
                Err(e) => return usage(&format!("--duration {secs}: {e}")),
            }
        }
        (Some(other), _) => return usage(&format!("unexpected `{other}`")),
    };
    match run(duration) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcpconnect: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("tcpconnect: {msg}\nusage: tcpconnect [--duration SECS]");
    ExitCode::from(2)
}

fn run(duration: Option<Duration>) -> ebpf_skeleton::Result<()> {
    // SAFETY: the handler only stores to an atomic, which is signal-safe.
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    let objs = tcpconnect::Objects::load()?;
    let _links = objs.attach()?;
    let mut events = objs.maps.events.reader()?;
    println!(
        "{:>7} {:<16} {:>39} {:>5} {:>39} {:>5} {:>9} RESULT",
        "PID", "COMM", "SADDR", "SPORT", "DADDR", "DPORT", "LAT(ms)"
    );
    let start = Instant::now();
    let left = || duration.map(|d| d.saturating_sub(start.elapsed()));
    while !STOP.load(Ordering::Relaxed) && left() != Some(Duration::ZERO) {
        events.poll(Some(
            left()
                .unwrap_or(Duration::MAX)
                .min(Duration::from_millis(100)),
        ))?;
        while let Some(e) = events.next_as::<ConnectEvent>()? {
            if writeln!(std::io::stdout(), "{}", line(&e)).is_err() {
                return Ok(()); // the reader went away
            }
        }
    }
    Ok(())
}

fn line(e: &ConnectEvent) -> String {
    let result = if e.established != 0 {
        "connected"
    } else {
        "refused"
    };
    format!(
        "{:>7} {:<16} {:>39} {:>5} {:>39} {:>5} {:>9.3} {result}",
        e.pid,
        text(&e.comm),
        addr(e.family, &e.saddr),
        e.sport,
        addr(e.family, &e.daddr),
        e.dport,
        e.latency_ns as f64 / 1e6
    )
}

/// The first 4 bytes for IPv4, all 16 for IPv6, in network order.
fn addr(family: u16, bytes: &[u8; 16]) -> IpAddr {
    if family == AF_INET {
        IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(*bytes))
    }
}

/// A NUL-terminated C string as text.
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
