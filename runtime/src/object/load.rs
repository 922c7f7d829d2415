//! Loading an object, and what a failed load says.
//!
//! Each program gets a verifier log buffer of its own before load. libbpf
//! loads a program without asking for a log, and only when the kernel
//! refuses it loads it again with a log, into that program's buffer: after
//! a failed load the written buffer names the program and holds its log,
//! whatever else in the process listens to libbpf's messages. The buffers
//! are reserved address space; only the pages the kernel writes cost
//! memory, and they are returned right after the load (the logs that
//! programs asked for are kept as text).

use std::collections::HashMap;
use std::io;
use std::ptr::NonNull;

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::handle::ObjectHandle;
use crate::os::errno::{check, code_of};
use crate::os::mmap::Scratch;
use crate::print;
use crate::program::{log_text, refusal, ProgramDevice, ProgramType, DEFAULT_LOG_SIZE};

/// What the applied spec of a program set that the load and its errors
/// need and libbpf cannot be asked for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Applied {
    /// The verifier log buffer's size.
    pub log_size: usize,
    /// The network device the program is loaded for.
    pub device: Option<ProgramDevice>,
}

/// Loads the open object behind `handle`, each program with a log buffer of
/// `applied[name].log_size` bytes (or the default); returns the logs of the
/// programs that asked for one (a log level above 0).
pub(super) fn load(
    handle: &ObjectHandle,
    applied: &HashMap<String, Applied>,
) -> Result<HashMap<String, String>> {
    let logs = LogBuffers::set(handle, applied)?;
    // SAFETY: the object is open and not loaded yet; the log buffers outlive
    // the call.
    let (ret, warnings) =
        print::capture(|| unsafe { sys::bpf_object__load(handle.ptr().as_ptr()) });
    // libbpf keeps the buffers' addresses but only writes them while loading;
    // they are unmapped when `logs` drops.
    check(ret).map_err(|source| failure(handle, &logs, applied, source, &warnings))?;
    Ok(logs.kept())
}

/// One log buffer per program that loads, in the object's order, with
/// whether its spec asked for the log of a successful load.
struct LogBuffers {
    buffers: Vec<(String, Scratch, bool)>,
}

impl LogBuffers {
    fn set(handle: &ObjectHandle, applied: &HashMap<String, Applied>) -> Result<Self> {
        let mut buffers = Vec::new();
        for (name, prog) in handle.programs() {
            // SAFETY: `prog` belongs to the open object.
            let (autoload, level) = unsafe {
                (
                    sys::bpf_program__autoload(prog.as_ptr()),
                    sys::bpf_program__log_level(prog.as_ptr()),
                )
            };
            if !autoload {
                continue;
            }
            let size = applied.get(name).map_or(DEFAULT_LOG_SIZE, |a| a.log_size);
            let buffer = Scratch::new(size.max(1)).map_err(|source| {
                Error::sys(
                    format!("reserving a verifier log for program `{name}`"),
                    source,
                )
            })?;
            set_log_buf(prog, &buffer).map_err(|source| Error::Configure {
                what: "verifier log buffer",
                kind: crate::Kind::Program,
                name: name.to_owned(),
                source,
            })?;
            buffers.push((name.to_owned(), buffer, level > 0));
        }
        Ok(LogBuffers { buffers })
    }

    /// The log and whether it filled the buffer, of the program `name`.
    fn log_of(&self, name: &str) -> Option<(String, bool)> {
        let (_, buffer, _) = self.buffers.iter().find(|(n, ..)| n == name)?;
        Some(log_text(buffer))
    }

    /// The last program the kernel wrote a log for: after a failed load the
    /// one that failed (programs that load without asking for a log get
    /// none, and loading stops at the first failure).
    fn last_written(&self) -> Option<&str> {
        let (name, ..) = self
            .buffers
            .iter()
            .rev()
            .find(|(_, b, _)| !b.is_untouched())?;
        Some(name)
    }

    /// The logs of the programs that asked for them.
    fn kept(&self) -> HashMap<String, String> {
        self.buffers
            .iter()
            .filter(|(_, _, wanted)| *wanted)
            .map(|(name, buffer, _)| (name.clone(), log_text(buffer).0))
            .collect()
    }
}

fn set_log_buf(prog: NonNull<sys::bpf_program>, buffer: &Scratch) -> io::Result<()> {
    // SAFETY: `prog` belongs to an open, unloaded object; the buffer is
    // writable for its length and outlives the load.
    check(unsafe {
        sys::bpf_program__set_log_buf(prog.as_ptr(), buffer.ptr().cast(), buffer.len() as _)
    })
    .map(drop)
}

/// The error for a failed load: the program the kernel refused with its
/// log, or else what libbpf said.
fn failure(
    handle: &ObjectHandle,
    logs: &LogBuffers,
    applied: &HashMap<String, Applied>,
    source: io::Error,
    warnings: &[String],
) -> Error {
    let object = handle.name().to_owned();
    let mut details = warnings.join("\n");
    if let Some(hint) = permission_hint(handle, &source) {
        details.push('\n');
        details.push_str(&hint);
    }
    // libbpf names the failed program in a message, when our print hook
    // sees it; otherwise its log buffer, the last one written, names it. A
    // refusal before the verifier ran (lockdown, missing privileges) leaves
    // no log and, without the message, no name.
    let named = warnings.iter().find_map(|w| failed_program(w));
    let Some(program) = named.or_else(|| logs.last_written()).map(str::to_owned) else {
        return Error::Load {
            object,
            source,
            details,
        };
    };
    let (log, truncated) = logs.log_of(&program).unwrap_or_default();
    let truncated = truncated || code_of(&source) == Some(libc::ENOSPC);
    // A device the kernel will not load for is refused before the
    // verifier runs: say which device it was.
    if let Some(device) = applied.get(&program).and_then(|a| a.device) {
        if log.is_empty() {
            if !details.is_empty() {
                details.push('\n');
            }
            details.push_str(&format!(
                "program `{program}` was loaded {}",
                device.describe()
            ));
        }
    }
    Error::ProgramLoad {
        object,
        program,
        source,
        log,
        truncated,
        // libbpf loads the programs of an object with its own options,
        // whose `log_true_size` it does not hand back.
        log_size_needed: None,
        details,
    }
}

/// Why the kernel said `EPERM`, when this process can tell.
fn permission_hint(handle: &ObjectHandle, source: &io::Error) -> Option<String> {
    let types = handle.programs().filter_map(|(_, prog)| {
        // SAFETY: `prog` belongs to the live object.
        let (autoload, kind) = unsafe {
            (
                sys::bpf_program__autoload(prog.as_ptr()),
                sys::bpf_program__type(prog.as_ptr()),
            )
        };
        autoload.then_some(ProgramType(kind))
    });
    refusal::permission_hint("this object", types, source)
}

/// The program named in libbpf's "prog 'NAME': BPF program load failed" or
/// "prog 'NAME': failed to load".
fn failed_program(warning: &str) -> Option<&str> {
    let rest = warning
        .strip_prefix("libbpf: ")
        .unwrap_or(warning)
        .strip_prefix("prog '")?;
    let (name, tail) = rest.split_once("': ")?;
    (tail.starts_with("BPF program load failed") || tail.starts_with("failed to load"))
        .then_some(name)
}
