//! Programs of no object, loaded from instructions: hand-written with
//! [`crate::asm`] (its `Builder`, its text form or the `asm!` macro), or
//! read from an object and changed. The maps they name are given by handle;
//! nothing is relocated, and the only BTF is where the program's functions
//! start (`func_info.rs`), so what the program refers to must be maps or
//! labels of its own.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use libbpf_sys as sys;

use super::func_info::{func_info, function_starts, FuncInfo};
use super::{log_text, refusal, AttachType, Program, ProgramType, Source, DEFAULT_LOG_SIZE};
use crate::asm::{Instructions, ReferenceKind};
use crate::error::{Error, Result};
use crate::names::kernel_name;
use crate::os::errno::{check, code_of};
use crate::os::mmap::Scratch;

/// A program to load from instructions, without an object: its name, type,
/// expected attach type, license, flags, verifier log, and the maps its
/// instructions name.
///
/// ```no_run
/// use ebpf_skeleton::{asm, Array, ProgramBuilder, ProgramType, TestRun};
///
/// # fn example() -> ebpf_skeleton::Result<()> {
/// let hits = Array::<u64>::create("hits", 1)?;
/// let program = asm! {
///     r1 = map_value(hits) ll    // the address of slot 0
///     r2 = 1
///     lock *(u64 *)(r1 + 0) += r2
///     r0 = 2                     // XDP_PASS
///     exit
/// };
/// let pass = ProgramBuilder::new("count_pass", ProgramType::XDP, program)
///     .map("hits", &hits)
///     .load()?;
/// let run = pass.test_run_with(&TestRun::new().data(&[0; 64]))?;
/// assert_eq!((run.return_value, hits.get(0)?), (2, Some(1)));
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
///
/// A program the verifier rejects is an [`Error::ProgramLoad`] with the
/// verifier's log, as for an object's programs.
#[derive(Debug, Clone)]
pub struct ProgramBuilder<'a> {
    name: String,
    program_type: ProgramType,
    instructions: Instructions,
    expected_attach_type: Option<AttachType>,
    license: String,
    flags: u32,
    log_level: u32,
    log_size: usize,
    btf: bool,
    maps: Vec<(String, BorrowedFd<'a>)>,
}

impl<'a> ProgramBuilder<'a> {
    /// A program named `name` (the kernel keeps its first 15 characters) of
    /// type `program_type`, made of `instructions`; GPL-licensed, no
    /// expected attach type, no flags, the verifier's log kept only when
    /// it rejects the program.
    pub fn new(
        name: impl Into<String>,
        program_type: ProgramType,
        instructions: Instructions,
    ) -> Self {
        ProgramBuilder {
            name: name.into(),
            program_type,
            instructions,
            expected_attach_type: None,
            license: "GPL".to_owned(),
            flags: 0,
            log_level: 0,
            log_size: DEFAULT_LOG_SIZE,
            btf: true,
            maps: Vec::new(),
        }
    }

    /// The hook the verifier checks the program for (`expected_attach_type`),
    /// which some types need: `cgroup_sock_addr` programs say which call
    /// they run on ([`AttachType::CGROUP_INET4_CONNECT`], ...), tc programs
    /// for tcx [`AttachType::TCX_INGRESS`]. A descriptor-held program
    /// attaches to a cgroup as this type.
    pub fn expected_attach_type(mut self, attach_type: AttachType) -> Self {
        self.expected_attach_type = Some(attach_type);
        self
    }

    /// The program's license (`GPL` unless set): helpers the kernel marks
    /// GPL-only are refused to programs whose license is not
    /// GPL-compatible.
    pub fn license(mut self, license: impl Into<String>) -> Self {
        self.license = license.into();
        self
    }

    /// `BPF_F_*` load flags (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`, ...).
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    /// The verifier log level, as [`ProgramSpec::log_level`](super::ProgramSpec::log_level):
    /// with a level above 0 the log of a successful load is kept
    /// ([`Program::verifier_log`]).
    pub fn log_level(mut self, level: u32) -> Self {
        self.log_level = level;
        self
    }

    /// The verifier log's buffer, in bytes (16 MiB unless set). A log that
    /// fills it is reported cut, with the size the whole log needs from
    /// Linux 6.4 ([`Error::ProgramLoad`]'s `log_size_needed`).
    pub fn log_size(mut self, size: usize) -> Self {
        self.log_size = size;
        self
    }

    /// Whether the kernel is told where the program's functions start, in
    /// a BTF object made for the load (on unless turned off; made only for
    /// a program with subprograms). The kernel needs it for programs that
    /// pass a subprogram to a helper (`bpf_loop`'s callback: "missing btf
    /// func_info" otherwise); plain calls of subprograms load without.
    pub fn btf(mut self, on: bool) -> Self {
        self.btf = on;
        self
    }

    /// The map the instructions call `name` (`r1 = map(name) ll`,
    /// `map_value(name)`): any map handle, typed or not. The kernel takes
    /// its own reference at load, so the map may be dropped afterwards.
    pub fn map(mut self, name: impl Into<String>, map: &'a impl AsFd) -> Self {
        self.maps.push((name.into(), map.as_fd()));
        self
    }

    /// The instructions, as given (maps still by name).
    pub fn instructions(&self) -> &Instructions {
        &self.instructions
    }

    /// Loads the program into the kernel.
    pub fn load(&self) -> Result<Program> {
        let name = kernel_name(&self.name).map_err(|problem| self.unresolved(problem))?;
        let license = std::ffi::CString::new(self.license.as_str())
            .map_err(|_| self.unresolved("its license holds a NUL byte".to_owned()))?;
        let words = self.resolved()?;
        let log = Scratch::new(self.log_size.max(1)).map_err(|source| {
            Error::sys(
                format!("reserving a verifier log for program `{}`", self.name),
                source,
            )
        })?;
        let functions = self.functions()?;
        let mut opts = sys::bpf_prog_load_opts {
            sz: size_of::<sys::bpf_prog_load_opts>() as _,
            expected_attach_type: self.expected_attach_type.map_or(0, |t| t.0),
            prog_flags: self.flags,
            log_level: self.log_level,
            log_size: u32::try_from(log.len()).unwrap_or(u32::MAX),
            log_buf: log.ptr().cast(),
            ..Default::default()
        };
        if let Some((btf, info)) = &functions {
            opts.prog_btf_fd = btf.as_raw_fd() as u32;
            opts.func_info = info.records.as_ptr().cast();
            opts.func_info_cnt = info.records.len() as u32;
            opts.func_info_rec_size = size_of::<sys::bpf_func_info>() as u32;
        }
        // SAFETY: `words` holds `words.len()` instructions laid out as
        // `struct bpf_insn`s (8 bytes each, aligned for them); the name,
        // license, options, func_info records, BTF and log buffer outlive
        // the call, and the kernel
        // writes at most `log_size` bytes of log. The maps the instructions
        // name are open: `self` borrows their descriptors.
        let ret = unsafe {
            sys::bpf_prog_load(
                self.program_type.0,
                name.as_ptr(),
                license.as_ptr(),
                words.as_ptr().cast(),
                words.len() as _,
                &mut opts,
            )
        };
        let (text, truncated) = log_text(&log);
        // The size the whole log needs, from Linux 6.4 (0 before: libbpf
        // hands back the kernel's `log_true_size`, a field older kernels
        // leave alone).
        let needed = (opts.log_true_size > 0).then_some(opts.log_true_size);
        let fd =
            check(ret).map_err(|source| self.rejected(source, text.clone(), truncated, needed))?;
        Ok(Program {
            name: self.name.clone(),
            section: String::new(),
            source: Source::Fd {
                // SAFETY: the kernel just returned this descriptor to us.
                fd: Arc::new(unsafe { OwnedFd::from_raw_fd(fd) }),
                program_type: self.program_type,
                attach_type: self.expected_attach_type,
                log: (self.log_level > 0).then(|| text.into()),
                instructions: Some(Arc::new(self.instructions.clone())),
            },
        })
    }

    /// The BTF of the program's functions and where each starts, loaded,
    /// when it has subprograms and BTF is on.
    fn functions(&self) -> Result<Option<(OwnedFd, FuncInfo)>> {
        let starts = function_starts(&self.instructions);
        if !self.btf || starts.len() < 2 {
            return Ok(None);
        }
        let info = func_info(&self.name, &self.instructions, &starts);
        // SAFETY: the BTF bytes outlive the call; NULL options take the
        // defaults.
        let ret = unsafe {
            sys::bpf_btf_load(
                info.btf.as_ptr().cast(),
                info.btf.len() as _,
                std::ptr::null_mut(),
            )
        };
        let fd = check(ret).map_err(|source| {
            Error::sys(
                format!(
                    "loading the BTF of the functions of program `{}` (ProgramBuilder::btf(false) \
                     loads without)",
                    self.name
                ),
                source,
            )
        })?;
        // SAFETY: the kernel just returned this descriptor to us.
        Ok(Some((unsafe { OwnedFd::from_raw_fd(fd) }, info)))
    }

    /// The instructions with every map filled in, as `struct bpf_insn`s
    /// (one native-endian 8-byte word each). A name no map was given for,
    /// or a kernel symbol (which needs BTF), is an error naming it.
    fn resolved(&self) -> Result<Vec<u64>> {
        let mut instructions = self.instructions.clone();
        let kernel: Vec<String> = instructions
            .references()
            .filter(|(_, kind, _)| *kind == ReferenceKind::Kernel)
            .map(|(_, _, name)| format!("`{name}`"))
            .collect();
        if !kernel.is_empty() {
            return Err(self.unresolved(format!(
                "it refers to the kernel symbol {}, which a program loaded without BTF cannot \
                 (give the kfunc's BTF id instead of its name)",
                kernel.join(", ")
            )));
        }
        let fd_of = |name: &str| {
            self.maps
                .iter()
                .find(|(given, _)| given == name)
                .map(|(_, fd)| fd.as_raw_fd())
        };
        instructions.resolve_maps(fd_of).map_err(|missing| {
            let given: Vec<&str> = self.maps.iter().map(|(n, _)| n.as_str()).collect();
            let suggestion = missing
                .0
                .first()
                .and_then(|m| crate::names::nearest(m, &given))
                .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
            self.unresolved(format!(
                "its instructions use {missing}, which was not given (ProgramBuilder::map){suggestion}"
            ))
        })?;
        let bytes = instructions.encode();
        Ok(bytes
            .chunks_exact(8)
            .map(|slot| u64::from_ne_bytes(slot.try_into().expect("8-byte chunks")))
            .collect())
    }

    fn unresolved(&self, problem: String) -> Error {
        Error::ProgramBuild {
            program: self.name.clone(),
            problem,
        }
    }

    fn rejected(
        &self,
        source: std::io::Error,
        log: String,
        truncated: bool,
        needed: Option<u32>,
    ) -> Error {
        let what = format!("program `{}`", self.name);
        let details =
            refusal::permission_hint(&what, [self.program_type], &source).unwrap_or_default();
        let truncated = truncated || code_of(&source) == Some(libc::ENOSPC);
        Error::ProgramLoad {
            object: String::new(),
            program: self.name.clone(),
            truncated,
            log_size_needed: needed.filter(|_| truncated),
            source,
            log,
            details,
        }
    }
}
