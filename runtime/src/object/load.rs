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
use crate::os::caps;
use crate::os::errno::{check, code_of};
use crate::os::mmap::Scratch;
use crate::print;
use crate::program::DEFAULT_LOG_SIZE;

/// Loads the open object behind `handle`, each program with a log buffer of
/// `log_sizes[name]` bytes (or the default); returns the logs of the
/// programs that asked for one (a log level above 0).
pub(super) fn load(
    handle: &ObjectHandle,
    log_sizes: &HashMap<String, usize>,
) -> Result<HashMap<String, String>> {
    let logs = LogBuffers::set(handle, log_sizes)?;
    // SAFETY: the object is open and not loaded yet; the log buffers outlive
    // the call.
    let (ret, warnings) =
        print::capture(|| unsafe { sys::bpf_object__load(handle.ptr().as_ptr()) });
    // libbpf keeps the buffers' addresses but only writes them while loading;
    // they are unmapped when `logs` drops.
    check(ret).map_err(|source| failure(handle, &logs, source, &warnings))?;
    Ok(logs.kept())
}

/// One log buffer per program that loads, in the object's order, with
/// whether its spec asked for the log of a successful load.
struct LogBuffers {
    buffers: Vec<(String, Scratch, bool)>,
}

impl LogBuffers {
    fn set(handle: &ObjectHandle, log_sizes: &HashMap<String, usize>) -> Result<Self> {
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
            let size = log_sizes.get(name).copied().unwrap_or(DEFAULT_LOG_SIZE);
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
        Some(text_of(buffer))
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
            .map(|(name, buffer, _)| (name.clone(), text_of(buffer).0))
            .collect()
    }
}

/// A log buffer's text, and whether it filled the buffer.
fn text_of(buffer: &Scratch) -> (String, bool) {
    let text = buffer.c_text();
    let truncated = text.len() + 1 >= buffer.len();
    (
        String::from_utf8_lossy(text).trim_end().to_owned(),
        truncated,
    )
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
    Error::ProgramLoad {
        object,
        program,
        source,
        log,
        truncated,
        details,
    }
}

/// Why the kernel said `EPERM`, when this process can tell: a capability
/// it lacks (naming only those the object's programs need), or lockdown.
fn permission_hint(handle: &ObjectHandle, source: &io::Error) -> Option<String> {
    if code_of(source) != Some(libc::EPERM) {
        return None;
    }
    let needed = needed_caps(handle);
    let missing: Vec<&str> = needed
        .iter()
        .filter(|&&cap| caps::has(cap) == Some(false))
        .map(|&cap| caps::name(cap))
        .collect();
    if !missing.is_empty() && caps::has(caps::SYS_ADMIN) != Some(true) {
        let all: Vec<&str> = needed.iter().map(|&c| caps::name(c)).collect();
        return Some(format!(
            "loading this object needs root or {}; this process lacks {}",
            all.join(" and "),
            missing.join(" and ")
        ));
    }
    caps::lockdown().map(|mode| {
        format!(
            "the kernel is locked down ({mode} mode, /sys/kernel/security/lockdown), which \
             refuses some program types (fentry, fexit, fmod_ret, LSM, kprobe writes) to everyone"
        )
    })
}

/// The capabilities the kernel asks of this object's programs (besides
/// `CAP_BPF`, which every load needs).
fn needed_caps(handle: &ObjectHandle) -> Vec<u32> {
    let mut needed = vec![caps::BPF];
    for (_, prog) in handle.programs() {
        // SAFETY: `prog` belongs to the live object.
        let (autoload, kind) = unsafe {
            (
                sys::bpf_program__autoload(prog.as_ptr()),
                sys::bpf_program__type(prog.as_ptr()),
            )
        };
        if !autoload {
            continue;
        }
        for cap in caps_for(kind) {
            if !needed.contains(cap) {
                needed.push(*cap);
            }
        }
    }
    needed
}

/// What the kernel checks for a program type, besides `CAP_BPF`.
fn caps_for(kind: sys::bpf_prog_type) -> &'static [u32] {
    match kind {
        sys::BPF_PROG_TYPE_EXT => &[caps::PERFMON, caps::NET_ADMIN],
        sys::BPF_PROG_TYPE_KPROBE
        | sys::BPF_PROG_TYPE_TRACEPOINT
        | sys::BPF_PROG_TYPE_PERF_EVENT
        | sys::BPF_PROG_TYPE_RAW_TRACEPOINT
        | sys::BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE
        | sys::BPF_PROG_TYPE_TRACING
        | sys::BPF_PROG_TYPE_LSM
        | sys::BPF_PROG_TYPE_STRUCT_OPS => &[caps::PERFMON],
        sys::BPF_PROG_TYPE_SCHED_CLS
        | sys::BPF_PROG_TYPE_SCHED_ACT
        | sys::BPF_PROG_TYPE_XDP
        | sys::BPF_PROG_TYPE_LWT_IN
        | sys::BPF_PROG_TYPE_LWT_OUT
        | sys::BPF_PROG_TYPE_LWT_XMIT
        | sys::BPF_PROG_TYPE_LWT_SEG6LOCAL
        | sys::BPF_PROG_TYPE_SK_SKB
        | sys::BPF_PROG_TYPE_SK_MSG
        | sys::BPF_PROG_TYPE_FLOW_DISSECTOR
        | sys::BPF_PROG_TYPE_CGROUP_DEVICE
        | sys::BPF_PROG_TYPE_CGROUP_SOCK
        | sys::BPF_PROG_TYPE_CGROUP_SOCK_ADDR
        | sys::BPF_PROG_TYPE_CGROUP_SOCKOPT
        | sys::BPF_PROG_TYPE_CGROUP_SYSCTL
        | sys::BPF_PROG_TYPE_SOCK_OPS
        | sys::BPF_PROG_TYPE_NETFILTER => &[caps::NET_ADMIN],
        _ => &[],
    }
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
