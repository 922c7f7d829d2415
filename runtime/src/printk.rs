//! `bpf_printk` output: the kernel's trace pipe, followed line by line.
//!
//! Programs' `bpf_printk` (the `bpf_trace_printk` helper) writes into the
//! kernel's trace buffer, which `/sys/kernel/tracing/trace_pipe` hands out
//! once: each line is read by one reader only. A line says which task wrote
//! it, on which CPU and when, but not which program: the kernel does not
//! record it.
//!
//! Since Linux 6.17 a program also has two streams of its own, stdout and
//! stderr, which it writes with `bpf_stream_printk` and the kernel writes
//! to on the program's errors; they are read per program, so each line is
//! known to be that program's: see [`Program::read_stream`],
//! [`Program::stream_lines`] and [`Program::forward_streams_to_log`].
//!
//! [`Program::read_stream`]: crate::Program::read_stream
//! [`Program::stream_lines`]: crate::Program::stream_lines
//! [`Program::forward_streams_to_log`]: crate::Program::forward_streams_to_log

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::os::poll::poll_readable;
pub use crate::program::Stream;

/// Where tracefs is mounted, then where older systems mount it.
const TRACE_PIPES: [&str; 2] = [
    "/sys/kernel/tracing/trace_pipe",
    "/sys/kernel/debug/tracing/trace_pipe",
];

/// The `log` target lines are logged under by [`TracePipe::forward_to_log`].
pub const LOG_TARGET: &str = "bpf_printk";

/// The `log` target lines of programs' BPF streams are logged under by
/// [`Program::forward_streams_to_log`](crate::Program::forward_streams_to_log).
///
/// ```no_run
/// // A logger may pick the streams' lines out by their target.
/// fn is_stream_line(record: &log::Record<'_>) -> bool {
///     record.target() == ebpf_skeleton::printk::STREAM_LOG_TARGET
/// }
/// # fn main() {}
/// ```
pub const STREAM_LOG_TARGET: &str = "bpf_stream";

/// One line of the trace pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    /// The name (`comm`) of the task that wrote it; `None` where the kernel
    /// prints `<...>`, having no name cached for the thread (it caches
    /// names as threads are switched while tracing is on).
    pub task: Option<String>,
    /// The thread id of that task.
    pub pid: u32,
    /// The CPU it ran on.
    pub cpu: u32,
    /// When, on the kernel's trace clock (since boot, by default).
    pub timestamp: Duration,
    /// The event: `bpf_trace_printk` for `bpf_printk`.
    pub event: String,
    /// What the program printed.
    pub message: String,
}

impl TraceLine {
    /// Whether `bpf_printk` wrote it (and not another trace event that
    /// someone enabled).
    pub fn is_printk(&self) -> bool {
        self.event == "bpf_trace_printk"
    }

    /// Reads a line as the kernel formats it:
    /// `task-pid [cpu] flags seconds.micros: event: message`, with the
    /// `(tgid)` column some systems turn on.
    pub fn parse(line: &str) -> Option<TraceLine> {
        let open = cpu_bracket(line)?;
        let (head, rest) = line.split_at(open);
        let head = head.trim();
        // `record-tgid` adds `(  1234)` after the pid.
        let head = match head.rsplit_once(" (") {
            Some((before, tgid)) if tgid.ends_with(')') => before.trim_end(),
            _ => head,
        };
        let (task, pid) = head.rsplit_once('-')?;
        let close = rest.find(']')?;
        let cpu = rest[1..close].trim().parse().ok()?;
        let mut after = rest[close + 1..].trim_start();
        // The flags column (`d..31`), when there is one, has no colon.
        if let Some((flags, more)) = after.split_once(' ') {
            if !flags.ends_with(':') {
                after = more.trim_start();
            }
        }
        let (time, rest) = after.split_once(": ")?;
        let (event, message) = rest
            .split_once(": ")
            .unwrap_or((rest.trim_end_matches(':'), ""));
        Some(TraceLine {
            task: Some(task.trim_start())
                .filter(|t| *t != "<...>")
                .map(str::to_owned),
            pid: pid.parse().ok()?,
            cpu,
            timestamp: timestamp(time)?,
            event: event.to_owned(),
            message: message.to_owned(),
        })
    }
}

/// Where the `[cpu]` column starts: the first `[` followed by digits and
/// `]` (a task name may hold brackets, but not before a space and a pid).
fn cpu_bracket(line: &str) -> Option<usize> {
    line.match_indices('[').map(|(i, _)| i).find(|&i| {
        let tail = &line[i + 1..];
        let digits = tail
            .trim_start()
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        digits > 0 && tail.trim_start()[digits..].starts_with(']')
    })
}

fn timestamp(text: &str) -> Option<Duration> {
    let (secs, frac) = text.trim().split_once('.').unwrap_or((text.trim(), "0"));
    let nanos: u32 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
    Some(Duration::new(secs.parse().ok()?, nanos))
}

/// The trace pipe, open for reading.
#[derive(Debug)]
pub struct TracePipe {
    file: File,
    /// Bytes read past the last whole line.
    pending: Vec<u8>,
}

/// The longest a reader waits on the trace pipe before trying to read.
const READ_INTERVAL: Duration = Duration::from_millis(50);

impl TracePipe {
    /// Opens the trace pipe (tracefs must be mounted, at
    /// `/sys/kernel/tracing` or under debugfs; reading needs root).
    pub fn open() -> Result<Self> {
        let mut last = None;
        for path in TRACE_PIPES {
            match std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
            {
                Ok(file) => {
                    return Ok(TracePipe {
                        file,
                        pending: Vec::new(),
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Error::sys(
            format!(
                "opening the trace pipe ({}; is tracefs mounted?)",
                TRACE_PIPES[0]
            ),
            last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENOENT)),
        ))
    }

    /// The next line, waiting up to `timeout` for it (forever if `None`);
    /// `None` when none came in time. Lines the kernel formats in a way
    /// [`TraceLine::parse`] does not know are skipped.
    pub fn next_line(&mut self, timeout: Option<Duration>) -> Result<Option<TraceLine>> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            while let Some(text) = self.take_line() {
                if let Some(line) = TraceLine::parse(&text) {
                    return Ok(Some(line));
                }
            }
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(None);
            }
            // The kernel wakes a trace pipe's pollers late or not at all
            // for a few lines (seen: 2 s, and once none in 10 s), so a
            // read is tried at least every READ_INTERVAL whatever poll says.
            let wait = left.map_or(READ_INTERVAL, |l| l.min(READ_INTERVAL));
            poll_readable(self.file.as_fd(), Some(wait))
                .map_err(|e| Error::sys("waiting on the trace pipe", e))?;
            self.fill()?;
        }
    }

    /// Logs every line that comes within `timeout` to the `log` crate,
    /// under the target [`LOG_TARGET`], at level info; returns how many.
    pub fn forward_to_log(&mut self, timeout: Duration) -> Result<usize> {
        let deadline = std::time::Instant::now() + timeout;
        let mut count = 0;
        while let Some(line) = self.next_line(Some(
            deadline.saturating_duration_since(std::time::Instant::now()),
        ))? {
            let task = line.task.as_deref().unwrap_or("<...>");
            log::info!(target: LOG_TARGET, "{task}-{} [{}]: {}", line.pid, line.cpu, line.message);
            count += 1;
        }
        Ok(count)
    }

    /// Reads what the pipe has now (it is non-blocking).
    fn fill(&mut self) -> Result<()> {
        let mut buf = [0u8; 4096];
        match self.file.read(&mut buf) {
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::sys("reading the trace pipe", e)),
        }
    }

    fn take_line(&mut self) -> Option<String> {
        let end = self.pending.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.pending.drain(..=end).collect();
        Some(String::from_utf8_lossy(&line[..end]).into_owned())
    }
}

impl Iterator for TracePipe {
    type Item = Result<TraceLine>;

    /// The next line, waiting for it as long as it takes.
    fn next(&mut self) -> Option<Self::Item> {
        self.next_line(None).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_the_kernel_writes_them() {
        let line = TraceLine::parse(
            "    my-task name-4242    [003] d..31 12345.678901: bpf_trace_printk: n=1 [x]",
        )
        .unwrap();
        assert_eq!(line.task.as_deref(), Some("my-task name"));
        assert_eq!((line.pid, line.cpu), (4242, 3));
        assert_eq!(line.timestamp, Duration::new(12345, 678_901_000));
        assert!(line.is_printk());
        assert_eq!(line.message, "n=1 [x]");

        let with_tgid =
            TraceLine::parse("  <...>-77      (     70) [000] .... 1.5: bpf_trace_printk: hi")
                .unwrap();
        assert_eq!(
            (with_tgid.task, with_tgid.pid, with_tgid.cpu),
            (None, 77, 0)
        );
        assert_eq!(with_tgid.message, "hi");

        assert_eq!(TraceLine::parse("CPU:1 [LOST 3 EVENTS]"), None);
    }
}
