//! The one error type of the runtime.
//!
//! Every error says what was being done and to which object, program or map,
//! and keeps the kernel's errno; a program the verifier rejected carries the
//! verifier's log.

use std::fmt;
use std::io;

/// What a name refers to inside an eBPF object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An eBPF program.
    Program,
    /// An eBPF map.
    Map,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Program => "program",
            Kind::Map => "map",
        })
    }
}

/// The result type of the runtime.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between an object file and the kernel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// libbpf could not open (parse) the object.
    #[error("opening eBPF object `{object}`: {source}")]
    Open {
        /// The object's name.
        object: String,
        /// The errno libbpf reported.
        source: io::Error,
    },

    /// The object has no program or map of that name.
    #[error("eBPF object `{object}` has no {kind} named `{name}`")]
    NotFound {
        /// The object's name.
        object: String,
        /// Whether a program or a map was looked for.
        kind: Kind,
        /// The name looked for.
        name: String,
    },

    /// Setting an option of a program or map before load failed.
    #[error("setting {what} of {kind} `{name}`: {source}")]
    Configure {
        /// The option, e.g. `max_entries`.
        what: &'static str,
        /// Program or map.
        kind: Kind,
        /// Its name.
        name: String,
        /// The errno libbpf reported.
        source: io::Error,
    },

    /// The kernel refused a program; `log` is what the verifier said.
    #[error(
        "loading program `{program}` of object `{object}`: {source}{}",
        verifier_section(log, details)
    )]
    ProgramLoad {
        /// The object's name.
        object: String,
        /// The rejected program.
        program: String,
        /// The errno of the failed load.
        source: io::Error,
        /// The verifier's log (level 1), as the kernel wrote it.
        log: String,
        /// What libbpf said about the failure, one message a line.
        details: String,
    },

    /// Loading the object failed for another reason than a rejected program
    /// (a map could not be created, a CO-RE relocation failed, ...).
    #[error("loading eBPF object `{object}`: {source}{}", indented(details))]
    Load {
        /// The object's name.
        object: String,
        /// The errno libbpf reported.
        source: io::Error,
        /// What libbpf said about the failure, one message a line.
        details: String,
    },

    /// The program is part of the object but was not loaded into the kernel
    /// (its autoload was turned off).
    #[error("program `{program}` was not loaded (its autoload was off)")]
    NotLoaded {
        /// The program's name.
        program: String,
    },

    /// The program's section names no hook, so it cannot attach by itself.
    #[error(
        "program `{program}` cannot attach by itself: its section `{section}` names no hook \
         (attach it with an explicit target, e.g. an interface, a cgroup or a perf event)"
    )]
    NoHook {
        /// The program's name.
        program: String,
        /// Its ELF section.
        section: String,
    },

    /// Attaching a program to its hook failed.
    #[error("attaching program `{program}` (section `{section}`): {source}{hint}")]
    Attach {
        /// The program's name.
        program: String,
        /// Its ELF section, which names the hook.
        section: String,
        /// The errno of the failed attach.
        source: io::Error,
        /// An explanation of a likely cause, starting with "; ", or empty.
        hint: &'static str,
    },

    /// A map operation failed.
    #[error("{op} on map `{map}`: {source}")]
    Map {
        /// The operation, e.g. `lookup`.
        op: &'static str,
        /// The map's name.
        map: String,
        /// The errno of the failed call.
        source: io::Error,
    },

    /// A key or value buffer does not have the size the map expects.
    #[error("{op} on map `{map}`: the {what} is {actual} bytes, the map's {what}s are {expected}")]
    Size {
        /// The operation, e.g. `update`.
        op: &'static str,
        /// The map's name.
        map: String,
        /// `key` or `value`.
        what: &'static str,
        /// The size the map expects.
        expected: usize,
        /// The size given.
        actual: usize,
    },

    /// A record cannot be read as the type asked for: the sizes differ. The
    /// record is consumed, so the next read goes on with the next record.
    #[error(
        "a record of {actual} bytes from map `{map}` cannot be read as `{type_name}`, \
         which is {expected} bytes"
    )]
    RecordSize {
        /// The map the record came from.
        map: String,
        /// The type asked for.
        type_name: &'static str,
        /// The type's size.
        expected: usize,
        /// The record's size.
        actual: usize,
    },

    /// A reader option is out of range (a ring size that is not a power of
    /// two, say).
    #[error("reading map `{map}`: {problem}")]
    ReaderOption {
        /// The map's name.
        map: String,
        /// What is wrong.
        problem: String,
    },

    /// A map is not of the kind a typed map needs (a typed map made from
    /// a [`crate::Map`] of another kind).
    #[error("map `{map}` is of kind {actual}, expected {}", kinds(expected))]
    MapKind {
        /// The map's name.
        map: String,
        /// The kinds the typed map accepts.
        expected: &'static [crate::MapType],
        /// The map's kind.
        actual: crate::MapType,
    },

    /// A batch operation was given a different number of keys and values.
    #[error("{op} on map `{map}`: {keys} keys but {values} values")]
    BatchLength {
        /// The operation, e.g. `update batch`.
        op: &'static str,
        /// The map's name.
        map: String,
        /// The number of keys given.
        keys: usize,
        /// The number of values given.
        values: usize,
    },

    /// Another system call failed.
    #[error("{what}: {source}")]
    Sys {
        /// What was being done.
        what: String,
        /// The errno of the failed call.
        source: io::Error,
    },
}

impl Error {
    /// The errno behind this error, if the kernel or libbpf reported one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Open { source, .. }
            | Error::Configure { source, .. }
            | Error::ProgramLoad { source, .. }
            | Error::Load { source, .. }
            | Error::Attach { source, .. }
            | Error::Map { source, .. }
            | Error::Sys { source, .. } => source.raw_os_error(),
            Error::NotFound { .. }
            | Error::NotLoaded { .. }
            | Error::NoHook { .. }
            | Error::Size { .. }
            | Error::RecordSize { .. }
            | Error::ReaderOption { .. }
            | Error::MapKind { .. }
            | Error::BatchLength { .. } => None,
        }
    }

    /// The verifier's log, if the kernel rejected a program.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            Error::ProgramLoad { log, .. } => Some(log),
            _ => None,
        }
    }

    pub(crate) fn sys(what: impl Into<String>, source: io::Error) -> Self {
        Error::Sys {
            what: what.into(),
            source,
        }
    }
}

/// Turns a libbpf return code (negative errno on failure) into a result.
pub(crate) fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::from_raw_os_error(-ret))
    } else {
        Ok(ret)
    }
}

/// The error libbpf left in `errno` after returning NULL.
pub(crate) fn last_error() -> io::Error {
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(0) | None => io::Error::from_raw_os_error(libc::EINVAL),
        Some(_) => err,
    }
}

/// `hash`, `hash or lru_hash`, `hash, lru_hash or array`.
fn kinds(kinds: &[crate::MapType]) -> String {
    let names: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    match names.split_last() {
        None => "no kind".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn verifier_section(log: &str, details: &str) -> String {
    if log.is_empty() {
        format!("{}\n(the kernel wrote no verifier log)", indented(details))
    } else {
        format!("\n--- verifier log ---\n{log}\n--- end of verifier log ---")
    }
}

fn indented(details: &str) -> String {
    details.lines().map(|l| format!("\n  {l}")).collect()
}
