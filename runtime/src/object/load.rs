//! Loading an object, and what a failed load says.
//!
//! Each program gets a verifier log buffer of its own before load. libbpf
//! loads a program without asking for a log, and only when the kernel
//! refuses it loads it again with a log, into that program's buffer: after
//! a failed load the written buffer names the program and holds its log,
//! whatever else in the process listens to libbpf's messages. The buffers
//! are reserved address space; only the pages the kernel writes cost
//! memory, and they are returned right after the load.

use std::io;
use std::ptr::NonNull;

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::handle::ObjectHandle;
use crate::os::caps;
use crate::os::errno::{check, code_of};
use crate::os::mmap::Scratch;
use crate::print;

/// The size of each program's log buffer: libbpf's own starting size
/// (`BPF_LOG_BUF_SIZE`), which every kernel accepts.
const LOG_SIZE: usize = 16 << 20;

/// Loads the open object behind `handle`.
pub(super) fn load(handle: &ObjectHandle) -> Result<()> {
    let logs = LogBuffers::set(handle)?;
    // SAFETY: the object is open and not loaded yet; the log buffers outlive
    // the call.
    let (ret, warnings) =
        print::capture(|| unsafe { sys::bpf_object__load(handle.ptr().as_ptr()) });
    // libbpf keeps the buffers' addresses but only writes them while loading;
    // they are unmapped when `logs` drops.
    check(ret)
        .map(drop)
        .map_err(|source| failure(handle, &logs, source, &warnings))
}

/// One log buffer per program that loads, in the object's order.
struct LogBuffers {
    buffers: Vec<(String, Scratch)>,
}

impl LogBuffers {
    fn set(handle: &ObjectHandle) -> Result<Self> {
        let mut buffers = Vec::new();
        for (name, prog) in handle.programs() {
            // SAFETY: `prog` belongs to the open object.
            if !unsafe { sys::bpf_program__autoload(prog.as_ptr()) } {
                continue;
            }
            let buffer = Scratch::new(LOG_SIZE).map_err(|source| {
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
            buffers.push((name.to_owned(), buffer));
        }
        Ok(LogBuffers { buffers })
    }

    /// The program whose load failed, its log, and whether the log filled
    /// the buffer: the last program the kernel wrote a log for.
    fn failed(&self) -> Option<(&str, String, bool)> {
        let (name, buffer) = self.buffers.iter().rev().find(|(_, b)| !b.is_untouched())?;
        let text = buffer.c_text();
        let truncated = text.len() + 1 >= buffer.len();
        let log = String::from_utf8_lossy(text).trim_end().to_owned();
        Some((name, log, truncated))
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
    source: io::Error,
    warnings: &[String],
) -> Error {
    let object = handle.name().to_owned();
    let mut details = warnings.join("\n");
    if let Some(hint) = permission_hint(handle, &source) {
        details.push('\n');
        details.push_str(&hint);
    }
    let (program, log, truncated) = match logs.failed() {
        Some((name, log, truncated)) => (name.to_owned(), log, truncated),
        // No log: a refusal before the verifier ran (lockdown, missing
        // privileges), named only in libbpf's message, if we saw it.
        None => match warnings.iter().find_map(|w| failed_program(w)) {
            Some(name) => (name.to_owned(), String::new(), false),
            None => {
                return Error::Load {
                    object,
                    source,
                    details,
                }
            }
        },
    };
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
