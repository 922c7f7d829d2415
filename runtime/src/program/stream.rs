//! A program's BPF streams (Linux 6.17): its own stdout and stderr, which
//! the program writes with the `bpf_stream_vprintk` kfunc (libbpf's
//! `bpf_stream_printk` macro) and the kernel writes to on the program's
//! errors, read with `BPF_PROG_STREAM_READ_BY_FD`. Unlike the trace pipe,
//! every line read is known to be this program's.

use std::fmt;

use libbpf_sys as sys;

use super::attach::{kernel_release, older_than};
use super::Program;
use crate::error::{Error, Result};
use crate::libbpf::prog_stream_read;
use crate::os::errno::code_of;
use crate::printk::STREAM_LOG_TARGET;

/// One of a program's two BPF streams.
///
/// ```no_run
/// use ebpf_skeleton::printk::Stream;
/// use ebpf_skeleton::Program;
/// # fn example(program: &Program) -> ebpf_skeleton::Result<()> {
/// for stream in [Stream::Stdout, Stream::Stderr] {
///     for line in program.stream_lines(stream)? {
///         println!("{} {stream}: {line}", program.name());
///     }
/// }
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// `BPF_STDOUT`: what the program prints for its user.
    Stdout,
    /// `BPF_STDERR`: what the program reports as errors, and what the
    /// kernel reports of the program's own errors (a fault, a stalled loop,
    /// a deadlock), with a stack trace.
    Stderr,
}

impl Stream {
    /// The kernel's id of the stream (`BPF_STREAM_STDOUT`, 1, or
    /// `BPF_STREAM_STDERR`, 2), as a program passes it to
    /// `bpf_stream_printk`.
    ///
    /// ```no_run
    /// assert_eq!(ebpf_skeleton::printk::Stream::Stderr.id(), 2);
    /// ```
    pub fn id(self) -> u32 {
        match self {
            Stream::Stdout => sys::BPF_STREAM_STDOUT,
            Stream::Stderr => sys::BPF_STREAM_STDERR,
        }
    }

    /// `stdout` or `stderr`.
    ///
    /// ```no_run
    /// assert_eq!(ebpf_skeleton::printk::Stream::Stdout.name(), "stdout");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How much one read of a stream asks for when draining it.
const DRAIN_CHUNK: usize = 4096;

impl Program {
    /// Reads what the program's `stream` holds into `buf`, up to its
    /// length, and returns how many bytes were read: 0 when the stream is
    /// empty. What is read is consumed; the rest of a line cut at the end
    /// of `buf` comes with the next read. The kernel keeps up to 100,000
    /// bytes a stream, and drops what a program writes past that.
    ///
    /// Streams need Linux 6.17 or later; on an older kernel the error says
    /// so, and its [`errno`](Error::errno) is the kernel's `EINVAL` for a
    /// command it does not know.
    ///
    /// ```no_run
    /// use ebpf_skeleton::printk::Stream;
    /// use ebpf_skeleton::Program;
    /// # fn example(program: &Program) -> ebpf_skeleton::Result<()> {
    /// let mut buf = [0u8; 4096];
    /// let n = program.read_stream(Stream::Stdout, &mut buf)?;
    /// print!("{}", String::from_utf8_lossy(&buf[..n]));
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn read_stream(&self, stream: Stream, buf: &mut [u8]) -> Result<usize> {
        let fd = self.fd()?;
        prog_stream_read(fd, stream.id(), buf).map_err(|source| self.stream_error(stream, source))
    }

    /// Drains the program's `stream`: everything in it now, as lines
    /// without their `\n` (invalid UTF-8 replaced; a last line the program
    /// did not end is a line too). Reading again gives only what the
    /// program wrote since. Errors as [`Program::read_stream`].
    ///
    /// ```no_run
    /// use ebpf_skeleton::printk::Stream;
    /// use ebpf_skeleton::Program;
    /// # fn example(program: &Program) -> ebpf_skeleton::Result<()> {
    /// program.test_run(None)?;
    /// for line in program.stream_lines(Stream::Stderr)? {
    ///     eprintln!("{}: {line}", program.name());
    /// }
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn stream_lines(&self, stream: Stream) -> Result<Vec<String>> {
        let mut bytes = Vec::new();
        let mut chunk = vec![0u8; DRAIN_CHUNK];
        loop {
            let n = self.read_stream(stream, &mut chunk)?;
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&chunk[..n]);
        }
        Ok(split_lines(&bytes))
    }

    /// Drains both of the program's streams into the `log` crate, under
    /// the target [`STREAM_LOG_TARGET`], each line as `name: text` with the
    /// program's name: stdout's at level info, then stderr's at level warn.
    /// Returns how many lines were logged. Errors as
    /// [`Program::read_stream`].
    ///
    /// ```no_run
    /// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
    /// program.test_run(None)?;
    /// let logged = program.forward_streams_to_log()?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn forward_streams_to_log(&self) -> Result<usize> {
        let out = self.stream_lines(Stream::Stdout)?;
        for line in &out {
            log::info!(target: STREAM_LOG_TARGET, "{}: {line}", self.name);
        }
        let err = self.stream_lines(Stream::Stderr)?;
        for line in &err {
            log::warn!(target: STREAM_LOG_TARGET, "{}: {line}", self.name);
        }
        Ok(out.len() + err.len())
    }

    /// The error of a failed read of `stream`, naming the program, and on a
    /// kernel before 6.17 the version streams need.
    fn stream_error(&self, stream: Stream, source: std::io::Error) -> Error {
        let mut what = format!("reading the {stream} stream of program `{}`", self.name);
        if code_of(&source) == Some(libc::EINVAL) {
            if let Some(release) = kernel_release().filter(|r| older_than(r, (6, 17))) {
                what.push_str(&format!(
                    ": BPF streams need Linux 6.17 or later and this kernel is {release}"
                ));
            }
        }
        Error::sys(what, source)
    }
}

/// `bytes` as lines, without their `\n`.
fn split_lines(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == b'\n')
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_split_into_lines() {
        assert!(split_lines(b"").is_empty());
        assert_eq!(split_lines(b"a\n"), ["a"]);
        assert_eq!(split_lines(b"a\n\nb"), ["a", "", "b"]);
        assert_eq!(Stream::Stdout.id(), 1);
        assert_eq!(Stream::Stderr.to_string(), "stderr");
    }
}
