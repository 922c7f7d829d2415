//! pktcount against the running kernel: this test sends UDP datagrams and
//! opens TCP connections over loopback while the tool counts `lo`, and the
//! tool's tables must count at least those packets, with rates that match.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};

/// `(packets, bytes, pkt/s, bytes/s)` of `proto` in each table.
fn rows(text: &str, proto: &str) -> Vec<(u64, u64, f64, f64)> {
    text.lines()
        .filter(|l| l.split_whitespace().next() == Some(proto))
        .map(|l| {
            let p: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(p.len(), 5, "{l}");
            (
                p[1].parse().unwrap(),
                p[2].parse().unwrap(),
                p[3].parse().unwrap(),
                p[4].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn loopback_udp_and_tcp_are_counted_with_their_rates() {
    const DATAGRAMS: u64 = 500;
    const PAYLOAD: usize = 100;
    let mut tool = Command::new(env!("CARGO_BIN_EXE_pktcount"))
        .args(["--iface", "lo", "--interval", "1", "--count", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting pktcount");
    let mut stdout = BufReader::new(tool.stdout.take().unwrap());
    let mut text = String::new();
    stdout.read_line(&mut text).unwrap();
    assert_eq!(text, "counting packets received on lo; Ctrl-C to stop\n");

    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..DATAGRAMS {
        sender
            .send_to(&[7; PAYLOAD], receiver.local_addr().unwrap())
            .unwrap();
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    for _ in 0..5 {
        let _stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        listener.accept().unwrap();
    }
    stdout.read_to_string(&mut text).unwrap();
    assert!(tool.wait().unwrap().success(), "{text}");

    let tables = text.matches(" ingress, interval ").count();
    assert_eq!(tables, 2, "{text}");
    // Piped, the tables scroll: none clears the screen.
    assert!(!text.contains('\x1b'), "{text:?}");
    let udp = rows(&text, "udp");
    let last = udp.last().unwrap_or_else(|| panic!("no udp row:\n{text}"));
    // Every datagram, with its IP and UDP headers (28 bytes) and the
    // Ethernet header loopback carries (14).
    assert!(last.0 >= DATAGRAMS, "{text}");
    assert!(last.1 >= DATAGRAMS * (PAYLOAD as u64 + 28 + 14), "{text}");
    // The rates of each table are its new packets per second.
    let mut previous = (0, 0);
    for row in &udp {
        assert!(row.2 >= 0.0 && row.3 >= 0.0);
        let new = row.0 - previous.0;
        assert!(
            (row.2 - new as f64).abs() <= new as f64 * 0.2 + 1.0,
            "{row:?} for {new} new packets in ~1 s:\n{text}"
        );
        previous = (row.0, row.1);
    }
    // Five handshakes and closes: at least 3 segments each way.
    let tcp = rows(&text, "tcp");
    assert!(tcp.last().is_some_and(|r| r.0 >= 5 * 6), "{text}");
}

/// On a terminal each table is drawn in place: the cursor goes home and the
/// screen is cleared before each one (`script` gives the tool a pty).
#[test]
fn on_a_terminal_each_table_redraws_the_screen() {
    let tool = format!(
        "{} --iface lo --interval 1 --count 2",
        env!("CARGO_BIN_EXE_pktcount")
    );
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &tool, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("running pktcount under script(1), from util-linux");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches(" ingress, interval ").count(), 2, "{text:?}");
    assert_eq!(text.matches("\x1b[H\x1b[2J").count(), 2, "{text:?}");
}
