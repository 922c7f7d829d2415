//! What the running kernel supports, each answered by the smallest load or
//! creation that needs it (as cilium/ebpf's `features` package answers):
//! a program type, a map type, a helper for a program type, an attach
//! type, an ISA version.
//!
//! An answer is [`Support::Supported`] or [`Support::Unsupported`] when
//! the kernel said which; an [`Error::Probe`] when it could not be told
//! (no privileges, lockdown, a probe this crate cannot make). Answers are
//! kept for the life of the process; errors are not, so a probe that could
//! not tell is asked again.
//!
//! ```no_run
//! use ebpf_skeleton::asm::Helper;
//! use ebpf_skeleton::features::{self, Support};
//! use ebpf_skeleton::{MapType, ProgramType};
//!
//! # fn main() -> ebpf_skeleton::Result<()> {
//! if features::map_type(MapType::RINGBUF)? == Support::Unsupported {
//!     println!("no ring buffers before Linux 5.8: use a perf event array");
//! }
//! let loops = features::helper(ProgramType::KPROBE, Helper::Loop)?.is_supported();
//! let v4 = features::isa(4)?.is_supported(); // sign-extending loads, gotol, ...
//! # Ok(())
//! # }
//! ```

mod attach;
mod load;
mod maps;
mod programs;

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;

use crate::asm::Helper;
use crate::error::{Error, Result};
use crate::os::errno::{code_of, ENOTSUPP};
use crate::{AttachType, MapType, ProgramType};

/// What the kernel said of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Support {
    /// The kernel took the probe.
    Supported,
    /// The kernel refused the probe as something it does not have.
    Unsupported,
}

impl Support {
    /// Whether the feature is supported.
    pub fn is_supported(self) -> bool {
        self == Support::Supported
    }
}

/// Whether the kernel loads programs of type `kind`.
///
/// Types that attach to kernel functions are probed with a function every
/// kernel has: `tracing` as an fentry of `bpf_fentry_test1`, `lsm` on
/// `file_open`, `struct_ops` as `tcp_congestion_ops.init`, `ext` replacing
/// a probe's own function.
pub fn program_type(kind: ProgramType) -> Result<Support> {
    cached(Probe::ProgramType(kind), || programs::program_type(kind))
}

/// Whether the kernel creates maps of type `kind` (with BTF where the kind
/// needs it: local storage, struct_ops).
pub fn map_type(kind: MapType) -> Result<Support> {
    cached(Probe::MapType(kind), || maps::map_type(kind))
}

/// Whether programs of type `kind` may call `helper` on this kernel: the
/// kernel knows the helper and offers it to that type. `Unsupported` too
/// when the type itself is.
pub fn helper(kind: ProgramType, helper: Helper) -> Result<Support> {
    helper_id(kind, helper.id())
}

/// Like [`helper`], by the helper's number (for helpers newer than this
/// crate, or to find where the kernel's list ends).
pub fn helper_id(kind: ProgramType, id: i32) -> Result<Support> {
    cached(Probe::Helper(kind, id), || programs::helper(kind, id))
}

/// Whether the kernel attaches programs as `attach_type` through BPF
/// links (the way this crate attaches): a probe program is loaded for the
/// hook and linked to a target that does not exist, which a kernel that
/// has the hook refuses for the target, one without it for the hook.
/// Attach types of cgroups, interfaces (XDP, tcx, netkit), socket maps,
/// network namespaces and perf events are probed this way; any other is
/// an error (could not tell).
pub fn attach_type(attach_type: AttachType) -> Result<Support> {
    cached(Probe::AttachType(attach_type), || {
        attach::attach_type(attach_type)
    })
}

/// Whether the kernel takes the instructions of ISA version `version` of
/// the kernel's `instruction-set.rst` (1 to 4): v2 jumps if lower
/// (`JLT`, Linux 4.14), v3 32-bit jumps (`JMP32`, 5.1), v4 sign-extending
/// moves and loads, signed division, byte swaps and `gotol` (6.6).
pub fn isa(version: u8) -> Result<Support> {
    cached(Probe::Isa(version), || programs::isa(version))
}

/// One question of this module, as kept in the cache.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Probe {
    ProgramType(ProgramType),
    MapType(MapType),
    Helper(ProgramType, i32),
    AttachType(AttachType),
    Isa(u8),
}

/// The answers so far.
static ANSWERS: Mutex<Option<HashMap<Probe, Support>>> = Mutex::new(None);

/// The kept answer to `probe`, or `ask`'s, kept when it is one.
fn cached(probe: Probe, ask: impl FnOnce() -> Result<Support>) -> Result<Support> {
    let known = |answers: &Option<HashMap<Probe, Support>>| {
        answers.as_ref().and_then(|a| a.get(&probe).copied())
    };
    if let Some(answer) = known(&ANSWERS.lock().unwrap_or_else(|e| e.into_inner())) {
        return Ok(answer);
    }
    // Asked without the lock: a probe can take a while, and probes of other
    // features need not wait. Two threads may ask at once; they get the
    // same answer.
    let answer = ask()?;
    ANSWERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(probe, answer);
    Ok(answer)
}

/// The answer for a probe the kernel refused with `source`: the errnos of
/// something it does not have mean "unsupported"; any other means the
/// probe could not tell.
fn refused(feature: impl Into<String>, source: io::Error, hint: Option<String>) -> Result<Support> {
    match code_of(&source) {
        Some(libc::EINVAL | libc::E2BIG | libc::EOPNOTSUPP | ENOTSUPP) => Ok(Support::Unsupported),
        _ => Err(could_not_tell(feature, source, hint.unwrap_or_default())),
    }
}

fn could_not_tell(feature: impl Into<String>, source: io::Error, reason: String) -> Error {
    Error::Probe {
        feature: feature.into(),
        source,
        reason,
    }
}
