//! What can be decided about a program before its object is loaded: whether
//! it loads, its type and expected attach type, its attach target, the
//! network device it is loaded for, its load flags, and its verifier log.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use super::{AttachType, Program, ProgramType};
use crate::asm::Instructions;
use crate::error::{Error, Kind, Result};
use crate::libbpf::{program_name, program_section};
use crate::os::errno::check;
use crate::os::mmap::Scratch;

/// The verifier log buffer of each program unless its spec says otherwise:
/// libbpf's own starting size (`BPF_LOG_BUF_SIZE`), which every kernel
/// accepts. It is reserved address space; only what the kernel writes
/// costs memory.
pub(crate) const DEFAULT_LOG_SIZE: usize = 16 << 20;

/// A verifier log buffer's text, and whether it filled the buffer.
pub(crate) fn log_text(buffer: &Scratch) -> (String, bool) {
    let text = buffer.c_text();
    let truncated = text.len() + 1 >= buffer.len();
    (
        String::from_utf8_lossy(text).trim_end().to_owned(),
        truncated,
    )
}

/// A program's settings before load. Read from the object as libbpf sees it
/// (from the section name); every field changed is applied at load.
///
/// ```no_run
/// use ebpf_skeleton::{AttachType, OpenObject};
/// # fn example(mut object: OpenObject) -> ebpf_skeleton::Result<()> {
/// // A `SEC("tc")` program, to be attached with tcx.
/// let mut spec = object.program_spec("classify")?;
/// spec.expected_attach_type = AttachType::TCX_INGRESS;
/// spec.log_level = 1; // keep the verifier's log of a successful load too
/// object.apply_program(&spec)?;
/// let loaded = object.load()?;
/// println!("{}", loaded.program("classify")?.verifier_log().unwrap_or_default());
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone)]
pub struct ProgramSpec {
    name: String,
    section: String,
    /// Whether the program is loaded with its object (libbpf's autoload).
    /// Turn it off to leave out a program the running kernel cannot take.
    pub autoload: bool,
    /// The kernel's program type (libbpf derives it from the section).
    pub program_type: ProgramType,
    /// The hook the verifier checks the program for (`expected_attach_type`):
    /// a `SEC("tc")` program attached with tcx needs
    /// [`AttachType::TCX_INGRESS`] or [`AttachType::TCX_EGRESS`].
    pub expected_attach_type: AttachType,
    /// `BPF_F_*` load flags (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`, ...).
    pub flags: u32,
    /// The network device the program is loaded for, if any: an XDP
    /// program bound to one interface, or a program offloaded to a NIC.
    pub device: Option<ProgramDevice>,
    /// The verifier log level: 0 asks for no log, except that a program the
    /// kernel rejects is loaded again at level 1 for its log; 1 logs the
    /// verification, 2 every instruction's state, 4 only statistics (bits
    /// combine). With a level, the log of a successful load is kept
    /// ([`Program::verifier_log`]).
    pub log_level: u32,
    /// The verifier log's buffer, in bytes. A log that fills it is
    /// reported as cut ([`Error::ProgramLoad`]'s `truncated`).
    pub log_size: usize,
    target: Option<Target>,
    loaded: Loaded,
    instructions: Instructions,
}

/// The network device a program is loaded for (the kernel's
/// `prog_ifindex`): the verifier checks the program for that device, and it
/// attaches to no other.
///
/// ```no_run
/// use ebpf_skeleton::ProgramDevice;
/// # fn example(mut object: ebpf_skeleton::OpenObject, ifindex: u32) -> ebpf_skeleton::Result<()> {
/// // An XDP program that reads the driver's receive hash
/// // (`bpf_xdp_metadata_rx_hash`) of the interface `ifindex`.
/// let mut spec = object.program_spec("xdp_hash")?;
/// spec.device = Some(ProgramDevice::Bound(ifindex));
/// object.apply_program(&spec)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramDevice {
    /// Bound to the interface with this index (`BPF_F_XDP_DEV_BOUND_ONLY`,
    /// Linux 6.3): an XDP program that runs on the host, in driver mode on
    /// that interface only, and whose calls of the receive-metadata kfuncs
    /// (`bpf_xdp_metadata_rx_hash`, `_rx_timestamp`, `_rx_vlan_tag`) the
    /// verifier turns into the driver's own. An unbound program that calls
    /// them is rejected (`EINVAL`, "metadata kfuncs require device-bound
    /// program").
    Bound(u32),
    /// Offloaded to the NIC with this index, to attach with
    /// [`XdpMode::Offload`](crate::link::XdpMode::Offload): only a driver
    /// with BPF offload takes it, and every other interface refuses the
    /// load (`EINVAL`).
    Offloaded(u32),
}

impl ProgramDevice {
    /// The interface's index.
    pub fn ifindex(self) -> u32 {
        match self {
            ProgramDevice::Bound(ifindex) | ProgramDevice::Offloaded(ifindex) => ifindex,
        }
    }

    /// How a failed load names it: "bound to interface `eth0` (index 2)".
    pub(crate) fn describe(self) -> String {
        match self {
            ProgramDevice::Bound(ifindex) => format!(
                "bound to interface {} (XDP programs only, Linux 6.3 or later)",
                super::attach::interface(ifindex)
            ),
            ProgramDevice::Offloaded(ifindex) => format!(
                "to be offloaded to interface {}, which takes it only if its driver has BPF \
                 offload",
                super::attach::interface(ifindex)
            ),
        }
    }

    /// The load flag it adds.
    fn flags(self) -> u32 {
        match self {
            ProgramDevice::Bound(_) => sys::BPF_F_XDP_DEV_BOUND_ONLY,
            ProgramDevice::Offloaded(_) => 0,
        }
    }
}

/// What fentry/fexit/fmod_ret/lsm/freplace programs attach to.
#[derive(Debug, Clone)]
struct Target {
    function: String,
    /// For freplace: the program whose function is replaced.
    program: Option<Arc<OwnedFd>>,
}

/// The settings as read from libbpf, to apply only what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loaded {
    autoload: bool,
    program_type: ProgramType,
    expected_attach_type: AttachType,
    flags: u32,
    log_level: u32,
}

impl ProgramSpec {
    pub(crate) fn read(prog: NonNull<sys::bpf_program>, instructions: Instructions) -> Self {
        let p = prog.as_ptr();
        // SAFETY: for every call, `p` is a program of an open object.
        let loaded = unsafe {
            Loaded {
                autoload: sys::bpf_program__autoload(p),
                program_type: ProgramType(sys::bpf_program__type(p)),
                expected_attach_type: AttachType(sys::bpf_program__expected_attach_type(p)),
                flags: sys::bpf_program__flags(p),
                log_level: sys::bpf_program__log_level(p),
            }
        };
        ProgramSpec {
            name: program_name(p),
            section: program_section(p),
            autoload: loaded.autoload,
            program_type: loaded.program_type,
            expected_attach_type: loaded.expected_attach_type,
            flags: loaded.flags,
            device: None,
            log_level: loaded.log_level,
            log_size: DEFAULT_LOG_SIZE,
            target: None,
            loaded,
            instructions,
        }
    }

    /// Applies what changed since the spec was read.
    pub(crate) fn apply(&self, prog: NonNull<sys::bpf_program>) -> Result<()> {
        let p = prog.as_ptr();
        let was = self.loaded;
        // SAFETY: for every call, `p` is a program of an open, unloaded object;
        // the target's name and descriptor outlive the call.
        unsafe {
            if self.autoload != was.autoload {
                self.configured("autoload", sys::bpf_program__set_autoload(p, self.autoload))?;
            }
            if self.program_type != was.program_type {
                let ret = sys::bpf_program__set_type(p, self.program_type.0);
                self.configured("program type", ret)?;
            }
            if self.expected_attach_type != was.expected_attach_type {
                let ret =
                    sys::bpf_program__set_expected_attach_type(p, self.expected_attach_type.0);
                self.configured("expected attach type", ret)?;
            }
            let flags = self.flags | self.device.map_or(0, ProgramDevice::flags);
            if flags != was.flags {
                self.configured("flags", sys::bpf_program__set_flags(p, flags))?;
            }
            // Always set, so that `None` clears the device of a spec applied
            // earlier (whose bound flag a spec read since then has in `flags`).
            sys::bpf_program__set_ifindex(p, self.device.map_or(0, ProgramDevice::ifindex));
            if self.log_level != was.log_level {
                self.configured(
                    "log level",
                    sys::bpf_program__set_log_level(p, self.log_level),
                )?;
            }
            if let Some(target) = &self.target {
                let function = CString::new(target.function.as_str()).map_err(|_| {
                    self.config_error(
                        "attach target",
                        std::io::Error::from_raw_os_error(libc::EINVAL),
                    )
                })?;
                let fd = target.program.as_ref().map_or(0, |fd| fd.as_raw_fd());
                let ret = sys::bpf_program__set_attach_target(p, fd, function.as_ptr());
                self.configured("attach target", ret)?;
            }
        }
        Ok(())
    }

    /// Attaches an fentry, fexit, fmod_ret, lsm or tp_btf program to the
    /// kernel function (or LSM hook, or BTF tracepoint) `function` instead of
    /// the one its section names: the target is part of what the verifier
    /// checks, so it is chosen before load.
    pub fn set_attach_function(&mut self, function: impl Into<String>) {
        self.target = Some(Target {
            function: function.into(),
            program: None,
        });
    }

    /// Makes a `freplace` program replace the global function `function` of
    /// the loaded program `program` (which must have BTF).
    pub fn set_replaced_function(
        &mut self,
        program: &Program,
        function: impl Into<String>,
    ) -> Result<()> {
        let fd = program
            .fd()?
            .as_fd()
            .try_clone_to_owned()
            .map_err(|source| {
                Error::sys(
                    format!("duplicating the descriptor of program `{}`", program.name()),
                    source,
                )
            })?;
        self.target = Some(Target {
            function: function.into(),
            program: Some(Arc::new(fd)),
        });
        Ok(())
    }

    /// The descriptors libbpf is given but does not duplicate (a freplace
    /// target's), which must stay open until load.
    pub(crate) fn kept_fds(&self) -> impl Iterator<Item = Arc<OwnedFd>> + '_ {
        self.target.iter().filter_map(|t| t.program.clone())
    }

    /// The program's name (its C function's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ELF section the program is in, e.g. `tp/sched/sched_process_exec`.
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The program's instructions as the object holds them, before libbpf
    /// relocates them, each relocation point named by what it refers to:
    /// map loads by the map (`r1 = map(counts) ll`), loads of global
    /// variables by their data section and offset
    /// (`r1 = map_value(.bss) + 0x8 ll`), calls and addresses of functions
    /// by the function (`call helper_fn`), and uses of externs by the
    /// kernel symbol (`call kfunc bpf_task_acquire`, `ld_pseudo r1, 0x3,
    /// bpf_prog_active` for a `__ksym` or `__kconfig` variable). Subprograms
    /// are not appended and CO-RE relocations (in `.BTF.ext`) are not
    /// applied: libbpf does both at load ([`Program::instructions`] has the
    /// result).
    ///
    /// ```no_run
    /// # fn example(object: &ebpf_skeleton::OpenObject) -> ebpf_skeleton::Result<()> {
    /// let spec = object.program_spec("count_getppid")?;
    /// for (index, kind, name) in spec.instructions().references() {
    ///     println!("instruction {index} refers to {kind:?} `{name}`");
    /// }
    /// print!("{}", spec.instructions()); // as llvm-objdump prints it, names for relocations
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn instructions(&self) -> &Instructions {
        &self.instructions
    }

    /// The kernel's program type, as the spec stands.
    pub fn program_type(&self) -> ProgramType {
        self.program_type
    }

    fn configured(&self, what: &'static str, ret: i32) -> Result<()> {
        check(ret)
            .map(drop)
            .map_err(|source| self.config_error(what, source))
    }

    fn config_error(&self, what: &'static str, source: std::io::Error) -> Error {
        Error::Configure {
            what,
            kind: Kind::Program,
            name: self.name.clone(),
            source,
        }
    }
}
