//! The one error type of the runtime.
//!
//! Every error says what was being done and to which object, program or map.
//! The errno, where there is one, is the error's [`source`]
//! (std::error::Error::source), not part of its message, so that error
//! reporters which print the chain (anyhow, eyre) print it once; a program
//! the verifier rejected carries the verifier's log.
//!
//! [`source`]: std::error::Error::source

use std::fmt;
use std::io;

pub(crate) use crate::os::errno::check;
use crate::os::errno::code_of;

/// What a name refers to inside an eBPF object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

/// How many of the verifier log's last lines an error's message shows; the
/// whole log stays in [`Error::verifier_log`].
const LOG_LINES_SHOWN: usize = 40;

/// Everything that can go wrong between an object file and the kernel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// libbpf could not open (parse) the object.
    #[error("opening eBPF object `{object}`{}", indented(details))]
    #[non_exhaustive]
    Open {
        /// The object's name.
        object: String,
        /// The error libbpf reported.
        source: io::Error,
        /// What libbpf said about the failure, one message a line. libbpf
        /// says it through the one print hook a process has: empty when
        /// other code replaced this crate's (`libbpf_set_print`, libbpf-rs's
        /// `set_print`).
        details: String,
    },

    /// The object has no program or map of that name.
    #[error(
        "eBPF object `{object}` has no {kind} named `{name}`{}",
        suggest(suggestion)
    )]
    #[non_exhaustive]
    NotFound {
        /// The object's name.
        object: String,
        /// Whether a program or a map was looked for.
        kind: Kind,
        /// The name looked for.
        name: String,
        /// The object's closest name, when one is close enough to be a typo.
        suggestion: Option<String>,
    },

    /// Setting an option of a program or map before load failed.
    #[error("setting {what} of {kind} `{name}`")]
    #[non_exhaustive]
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
    #[error("{}", program_load(object, program, source, log, details, *truncated, *log_size_needed))]
    #[non_exhaustive]
    ProgramLoad {
        /// The object's name (empty for a program loaded from
        /// instructions).
        object: String,
        /// The rejected program.
        program: String,
        /// The errno of the failed load.
        source: io::Error,
        /// The verifier's log, as the kernel wrote it.
        log: String,
        /// Whether the log filled its buffer, so that its start or end is
        /// missing.
        truncated: bool,
        /// For a cut log, the buffer size in bytes that the whole log needs
        /// (its terminating NUL included), when the kernel says: Linux 6.4
        /// and later (`log_true_size`), for a program loaded from
        /// instructions ([`crate::ProgramBuilder`], whose
        /// [`log_size`](crate::ProgramBuilder::log_size) takes it). `None`
        /// for a program of an object, as libbpf keeps the size to itself.
        log_size_needed: Option<u32>,
        /// What libbpf said about the failure, one message a line.
        details: String,
    },

    /// A program to load from instructions ([`crate::ProgramBuilder`])
    /// cannot be: a map its instructions name was not given, its name or
    /// license cannot be passed to the kernel.
    #[error("program `{program}` cannot be loaded: {problem}")]
    #[non_exhaustive]
    ProgramBuild {
        /// The program's name.
        program: String,
        /// What is wrong.
        problem: String,
    },

    /// Loading the object failed for another reason than a rejected program
    /// (a map could not be created, a CO-RE relocation failed, ...).
    #[error("loading eBPF object `{object}`{}", indented(details))]
    #[non_exhaustive]
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
    #[non_exhaustive]
    NotLoaded {
        /// The program's name.
        program: String,
    },

    /// The map is part of the object but was not created in the kernel
    /// (its autocreate was off: turned off before load, or a struct_ops
    /// map in a `?.struct_ops` section).
    #[error("map `{map}` was not created (its autocreate was off)")]
    #[non_exhaustive]
    NotCreated {
        /// The map's name.
        map: String,
    },

    /// The program's section names no hook, so it cannot attach by itself.
    #[error(
        "program `{program}` cannot attach by itself: its section `{section}` names no hook \
         (attach it with an explicit target, e.g. an interface, a cgroup or a perf event)"
    )]
    #[non_exhaustive]
    NoHook {
        /// The program's name.
        program: String,
        /// Its ELF section.
        section: String,
    },

    /// Attaching a program to a hook failed.
    #[error("attaching program `{program}` to {target}{}", reason_text(reason))]
    #[non_exhaustive]
    Attach {
        /// The program's name.
        program: String,
        /// The hook asked for, e.g. "tracepoint `syscalls:sys_enter_openat`".
        target: String,
        /// The errno of the failed attach.
        source: io::Error,
        /// Why, as far as libbpf or this crate can tell (libbpf's own
        /// message, a likely cause); empty when nothing more is known.
        /// libbpf's message comes through the process's one print hook,
        /// and is missing when other code replaced this crate's.
        reason: String,
    },

    /// A map operation failed.
    #[error("{op} on map `{map}`")]
    #[non_exhaustive]
    Map {
        /// The operation, e.g. `lookup`.
        op: &'static str,
        /// The map's name.
        map: String,
        /// The errno of the failed call.
        source: io::Error,
    },

    /// Creating a map of no object ([`crate::MapSpec::create`]) failed:
    /// the settings the kernel refused, or a name it would not take.
    #[error("creating map `{map}`: {problem}")]
    #[non_exhaustive]
    MapCreate {
        /// The map's name.
        map: String,
        /// What was refused, and why as far as this crate can tell.
        problem: String,
        /// The errno of the failed call (none for a name refused before
        /// asking the kernel).
        source: Option<io::Error>,
    },

    /// A key or value buffer does not have the size the map expects.
    #[error("{op} on map `{map}`: the {what} is {actual} bytes, the map's {what}s are {expected}")]
    #[non_exhaustive]
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
    /// record is not consumed: the reader's next read returns it again (to
    /// read it another way, or skip it).
    #[error(
        "a record of {actual} bytes from map `{map}` cannot be read as `{type_name}`, \
         which is {expected} bytes"
    )]
    #[non_exhaustive]
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
    #[non_exhaustive]
    ReaderOption {
        /// The map's name.
        map: String,
        /// What is wrong.
        problem: String,
    },

    /// Something else in this process already reads this map (or this part
    /// of it): one ring buffer has one consumer, one perf slot one event.
    #[error("map `{map}` already has {what} in this process; drop it first or read through it")]
    #[non_exhaustive]
    Busy {
        /// The map's name.
        map: String,
        /// What holds it, e.g. "a ring buffer reader".
        what: String,
    },

    /// A map cannot be shown as a data section's view: it is not that
    /// section's map.
    #[error("map `{map}` cannot be mapped as the data section `{section}`: {problem}")]
    #[non_exhaustive]
    Section {
        /// The map's name.
        map: String,
        /// The section the view shows.
        section: &'static str,
        /// What is wrong.
        problem: String,
    },

    /// A map is not of the kind a typed map needs (a typed map made from
    /// a [`crate::Map`] of another kind).
    #[error("map `{map}` is of kind {actual}, expected {}", kinds(expected))]
    #[non_exhaustive]
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
    #[non_exhaustive]
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

    /// A program's instructions read back from libbpf or the kernel hold
    /// one this crate cannot decode.
    #[error("decoding the {what} instructions of program `{program}`")]
    #[non_exhaustive]
    Decode {
        /// The program's name.
        program: String,
        /// `loaded` or `translated`.
        what: &'static str,
        /// The instruction, and what is wrong with it.
        source: crate::asm::DecodeError,
    },

    /// A feature probe ([`crate::features`]) could not tell whether the
    /// kernel has the feature: the probe was refused for another reason
    /// than the feature's absence (no privileges, lockdown), or cannot be
    /// made.
    #[error(
        "could not tell whether this kernel supports {feature}{}",
        reason_text(reason)
    )]
    #[non_exhaustive]
    Probe {
        /// The feature asked about, e.g. "map type ringbuf".
        feature: String,
        /// The errno of the refused probe.
        source: io::Error,
        /// Why, as far as this crate can tell.
        reason: String,
    },

    /// Another system call failed.
    #[error("{what}")]
    #[non_exhaustive]
    Sys {
        /// What was being done.
        what: String,
        /// The errno of the failed call.
        source: io::Error,
    },
}

impl Error {
    /// The errno (or libbpf error code) behind this error, if the kernel or
    /// libbpf reported one.
    pub fn errno(&self) -> Option<i32> {
        self.io_source().and_then(code_of)
    }

    /// The verifier's log, if the kernel rejected a program.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            Error::ProgramLoad { log, .. } => Some(log),
            _ => None,
        }
    }

    fn io_source(&self) -> Option<&io::Error> {
        match self {
            Error::Open { source, .. }
            | Error::Configure { source, .. }
            | Error::ProgramLoad { source, .. }
            | Error::Load { source, .. }
            | Error::Attach { source, .. }
            | Error::Map { source, .. }
            | Error::Probe { source, .. }
            | Error::Sys { source, .. } => Some(source),
            Error::MapCreate { source, .. } => source.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn sys(what: impl Into<String>, source: io::Error) -> Self {
        Error::Sys {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn not_found(
        object: &str,
        kind: Kind,
        name: &str,
        candidates: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        Error::NotFound {
            object: object.to_owned(),
            kind,
            name: name.to_owned(),
            suggestion: crate::names::nearest(name, candidates),
        }
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

fn suggest(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!("; did you mean `{name}`?"),
        None => String::new(),
    }
}

fn reason_text(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

fn program_load(
    object: &str,
    program: &str,
    source: &io::Error,
    log: &str,
    details: &str,
    truncated: bool,
    log_size_needed: Option<u32>,
) -> String {
    let rejected = matches!(
        code_of(source),
        Some(libc::EACCES | libc::EINVAL | libc::E2BIG)
    );
    let of_object = if object.is_empty() {
        String::new()
    } else {
        format!(" of object `{object}`")
    };
    let mut text = if rejected && !log.is_empty() {
        format!("the verifier rejected program `{program}`{of_object}")
    } else {
        format!("the kernel refused to load program `{program}`{of_object}")
    };
    if log.is_empty() {
        text.push_str(" (the kernel wrote no verifier log)");
        text.push_str(&indented(details));
        return text;
    }
    let lines: Vec<&str> = log.lines().collect();
    let shown = &lines[lines.len().saturating_sub(LOG_LINES_SHOWN)..];
    text.push_str("\n--- verifier log ---\n");
    if shown.len() < lines.len() {
        text.push_str(&format!(
            "[{} earlier lines; Error::verifier_log() has the whole log]\n",
            lines.len() - shown.len()
        ));
    }
    text.push_str(&shown.join("\n"));
    text.push_str("\n--- end of verifier log ---");
    match (truncated, log_size_needed) {
        (true, Some(needed)) => text.push_str(&format!(
            "\n(the log filled its buffer: give the load a log size of {needed} bytes to see \
             all of it)"
        )),
        (true, None) => text.push_str(
            "\n(the log filled its buffer: give the load a larger log size to see all of it)",
        ),
        _ => {}
    }
    // A permission refusal after a log of no instructions (lockdown, say)
    // is explained by what libbpf and the hints said, not by the log.
    if code_of(source) == Some(libc::EPERM) {
        text.push_str(&indented(details));
    }
    text
}

fn indented(details: &str) -> String {
    details.lines().map(|l| format!("\n  {l}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn the_errno_is_the_source_not_the_message() {
        let err = Error::Map {
            op: "lookup",
            map: "counts".into(),
            source: io::Error::from_raw_os_error(libc::EPERM),
        };
        assert_eq!(err.to_string(), "lookup on map `counts`");
        assert_eq!(err.errno(), Some(libc::EPERM));
        let source = err.source().expect("a source").to_string();
        assert!(source.contains("Operation not permitted"), "{source}");
    }

    #[test]
    fn a_long_verifier_log_is_shown_by_its_end() {
        let log: Vec<String> = (0..1000).map(|i| format!("line {i}")).collect();
        let err = Error::ProgramLoad {
            object: "o".into(),
            program: "p".into(),
            source: io::Error::from_raw_os_error(libc::EACCES),
            log: log.join("\n"),
            truncated: false,
            log_size_needed: None,
            details: String::new(),
        };
        let text = err.to_string();
        assert!(text.starts_with("the verifier rejected program `p` of object `o`"));
        assert!(
            text.contains("line 999") && !text.contains("line 959\n"),
            "{text}"
        );
        assert!(text.contains("960 earlier lines"), "{text}");
        assert_eq!(err.verifier_log().unwrap().lines().count(), 1000);
    }

    #[test]
    fn a_refusal_with_a_log_keeps_its_hint() {
        let err = Error::ProgramLoad {
            object: "o".into(),
            program: "p".into(),
            source: io::Error::from_raw_os_error(libc::EPERM),
            log: "processed 0 insns".into(),
            truncated: false,
            log_size_needed: None,
            details: "the kernel is locked down".into(),
        };
        let text = err.to_string();
        assert!(
            text.starts_with("the kernel refused to load program `p`"),
            "{text}"
        );
        assert!(text.contains("processed 0 insns"), "{text}");
        assert!(text.ends_with("\n  the kernel is locked down"), "{text}");
    }
}
