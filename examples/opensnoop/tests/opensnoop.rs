//! opensnoop against the running kernel: the tool is started as a user
//! starts it, files are opened by this process and by children, and the
//! lines it prints are checked, filters included.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The tool, running, with its stdout read line by line on a thread.
struct Tool {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Tool {
    /// Starts opensnoop and waits for its header, printed once attached.
    fn start(args: &[&str]) -> Tool {
        let mut child = Command::new(env!("CARGO_BIN_EXE_opensnoop"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting opensnoop");
        let stdout = child.stdout.take().expect("piped stdout");
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
        let header = tool.wait_for(|l| l.contains("PATH"));
        assert!(header.contains("PID") && header.contains("ERR"), "{header}");
        tool
    }

    /// The first line (from now on) that `want` accepts; fails after 60 s
    /// (an emulated VM loads slowly).
    fn wait_for(&mut self, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no such line from opensnoop ({e}); it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Stops the tool with Ctrl-C, as a user would; every line it printed.
    fn stop(mut self) -> Vec<String> {
        // SAFETY: a plain kill(2) of our own child.
        let ret = unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        assert_eq!(ret, 0, "signalling opensnoop");
        let status = self.child.wait().expect("waiting for opensnoop");
        assert!(status.success(), "opensnoop ended with {status}");
        self.seen.extend(self.lines.iter());
        self.seen
    }
}

/// `(pid, uid, comm, fd, err, path)` of one event line.
fn fields(line: &str) -> (u32, u32, String, i32, i32, String) {
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert!(parts.len() >= 6, "not an event line: {line}");
    let num = |i: usize| {
        parts[i]
            .parse::<i64>()
            .unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    (
        num(0) as u32,
        num(1) as u32,
        parts[2].to_owned(),
        num(3) as i32,
        num(4) as i32,
        parts[5..].join(" "),
    )
}

fn scratch(tag: &str) -> String {
    format!("/tmp/opensnoop-test-{}-{tag}", std::process::id())
}

fn own_comm() -> String {
    std::fs::read_to_string("/proc/thread-self/comm")
        .expect("thread comm")
        .trim_end()
        .to_owned()
}

#[test]
fn pid_filter_shows_this_process_and_not_a_child() {
    let present = scratch("present");
    let missing = scratch("missing");
    let childs = scratch("child");
    std::fs::write(&present, "x").unwrap();
    std::fs::write(&childs, "x").unwrap();
    let pid = std::process::id();
    let mut tool = Tool::start(&["--pid", &pid.to_string()]);

    let fd = std::fs::File::open(&present).expect("opening the present file");
    let err = std::fs::File::open(&missing).expect_err("the missing file");
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    let cat = Command::new("cat").arg(&childs).output().expect("cat");
    assert!(cat.status.success());

    let comm = own_comm();
    let opened = fields(&tool.wait_for(|l| l.ends_with(&present)));
    assert_eq!(
        (opened.0, opened.1, &opened.2),
        (pid, 0, &comm),
        "{opened:?}"
    );
    assert!(
        opened.3 >= 0 && opened.4 == 0,
        "a descriptor, no error: {opened:?}"
    );
    let failed = fields(&tool.wait_for(|l| l.ends_with(&missing)));
    assert_eq!(
        (failed.0, failed.3, failed.4),
        (pid, -1, libc::ENOENT),
        "{failed:?}"
    );
    drop(fd);

    let lines = tool.stop();
    assert!(
        !lines.iter().any(|l| l.ends_with(&childs)),
        "the child's open passed the pid filter:\n{}",
        lines.join("\n")
    );
    for line in &lines[1..] {
        assert_eq!(
            fields(line).0,
            pid,
            "another process passed the pid filter: {line}"
        );
    }
    for path in [present, childs] {
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn uid_filter_shows_that_user_only() {
    const NOBODY: u32 = 65534;
    let childs = scratch("nobody");
    let roots = scratch("root");
    std::fs::write(&childs, "x").unwrap();
    let mut tool = Tool::start(&["--uid", &NOBODY.to_string()]);

    let _ = std::fs::File::open(&roots).expect_err("root's missing file");
    let cat = Command::new("cat")
        .arg(&childs)
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("cat as nobody");
    assert!(cat.status.success(), "{cat:?}");

    let seen = fields(&tool.wait_for(|l| l.ends_with(&childs)));
    assert_eq!((seen.1, seen.2.as_str()), (NOBODY, "cat"), "{seen:?}");
    assert!(
        seen.3 >= 0 && seen.4 == 0,
        "nobody could read the file: {seen:?}"
    );

    let lines = tool.stop();
    assert!(
        !lines.iter().any(|l| l.ends_with(&roots)),
        "root's open passed the uid filter:\n{}",
        lines.join("\n")
    );
    for line in &lines[1..] {
        assert_eq!(
            fields(line).1,
            NOBODY,
            "another user passed the uid filter: {line}"
        );
    }
    std::fs::remove_file(childs).unwrap();
}
