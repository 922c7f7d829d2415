//! tcpconnect against the running kernel: this test connects to listeners
//! of its own on loopback, over IPv4 and IPv6, and to a closed port, and
//! finds each connect in the tool's output with its exact ports.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

struct Tool {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Tool {
    fn start() -> Tool {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tcpconnect"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting tcpconnect");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut tool = Tool {
            child,
            lines,
            seen: Vec::new(),
        };
        let header = tool.wait_for(|l| l.contains("DPORT"));
        assert!(header.trim_start().starts_with("PID"), "{header}");
        tool
    }

    fn wait_for(&mut self, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if want(&line) => return line,
                Ok(line) => self.seen.push(line),
                Err(e) => panic!(
                    "no such line ({e}); tcpconnect printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(pid, comm, saddr, sport, daddr, dport, latency ms, result)`.
fn fields(line: &str) -> (u32, String, IpAddr, u16, IpAddr, u16, f64, String) {
    let p: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(p.len(), 8, "{line}");
    let bad = |i: usize| -> ! { panic!("field {i} of {line}") };
    (
        p[0].parse().unwrap_or_else(|_| bad(0)),
        p[1].to_owned(),
        p[2].parse().unwrap_or_else(|_| bad(2)),
        p[3].parse().unwrap_or_else(|_| bad(3)),
        p[4].parse().unwrap_or_else(|_| bad(4)),
        p[5].parse().unwrap_or_else(|_| bad(5)),
        p[6].parse().unwrap_or_else(|_| bad(6)),
        p[7].to_owned(),
    )
}

fn own_comm() -> String {
    std::fs::read_to_string("/proc/thread-self/comm")
        .unwrap()
        .trim_end()
        .to_owned()
}

/// Connects to `listener` and finds the connect in the output by its
/// source port, which only this connection has.
fn connect_and_find(tool: &mut Tool, listener: &TcpListener) {
    let to = listener.local_addr().unwrap();
    let stream = TcpStream::connect(to).expect("connecting on loopback");
    let from = stream.local_addr().unwrap();
    let (_accepted, peer) = listener.accept().unwrap();
    assert_eq!(peer, from);
    let line = tool.wait_for(|l| {
        let p: Vec<&str> = l.split_whitespace().collect();
        p.len() == 8 && p[3] == from.port().to_string() && p[5] == to.port().to_string()
    });
    let f = fields(&line);
    assert_eq!(
        (f.0, f.1.as_str()),
        (std::process::id(), own_comm().as_str()),
        "{line}"
    );
    assert_eq!(
        (f.2, f.3, f.4, f.5),
        (from.ip(), from.port(), to.ip(), to.port()),
        "{line}"
    );
    assert!(
        f.6 > 0.0 && f.6 < 1000.0,
        "a loopback connect in {} ms: {line}",
        f.6
    );
    assert_eq!(f.7, "connected", "{line}");
}

#[test]
fn loopback_connects_over_both_families_and_a_refusal_are_reported() {
    let mut tool = Tool::start();
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        connect_and_find(&mut tool, &v4);
    }
    let v6 = TcpListener::bind("[::1]:0").expect("IPv6 loopback");
    connect_and_find(&mut tool, &v6);

    // A port nobody listens on: SYN_SENT, then CLOSE on the reset.
    let closed: SocketAddr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let err = TcpStream::connect(closed).expect_err("nobody listens");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let line = tool.wait_for(|l| {
        let p: Vec<&str> = l.split_whitespace().collect();
        p.len() == 8 && p[5] == closed.port().to_string() && p[4] == "127.0.0.1"
    });
    let f = fields(&line);
    assert_eq!(
        (f.0, f.7.as_str()),
        (std::process::id(), "refused"),
        "{line}"
    );
}
