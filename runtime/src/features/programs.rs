//! Probes that load a program: of a type, calling a helper, using an ISA
//! version.

use std::io;

use libbpf_sys as sys;

use super::load::{load, KernelBtf, Setup};
use super::{could_not_tell, refused, Support};
use crate::asm::{exit, mov_sx, AluOp, Builder, Call, Cond, Helper, Instruction, Instructions};
use crate::asm::{Op, Size, Source, Width, R0};
use crate::error::Result;
use crate::program::refusal::permission_hint;
use crate::{AttachType, ProgramType};

/// `r0 = 0; exit`
fn returns_zero() -> Instructions {
    let mut b = Builder::new();
    b.push(AluOp::Mov.imm(R0, 0)).push(exit());
    b.build().unwrap_or_default()
}

pub(super) fn program_type(kind: ProgramType) -> Result<Support> {
    let feature = format!("program type {kind}");
    let setup = match setup(kind) {
        Ok(setup) => setup,
        Err(Unknown::No) => return Ok(Support::Unsupported),
        Err(Unknown::CannotTell(source, reason)) => {
            return Err(could_not_tell(feature, source, reason))
        }
    };
    let (fd, _) = load(&setup, &returns_zero(), false);
    match fd {
        Ok(_) => Ok(Support::Supported),
        Err(source) => {
            let hint = permission_hint(&feature, [kind], &source);
            refused(feature, source, hint)
        }
    }
}

pub(super) fn helper(kind: ProgramType, id: i32) -> Result<Support> {
    let name = Helper::from_id(id).map_or_else(|| format!("helper {id}"), |h| h.to_string());
    let feature = format!("{name} in {kind} programs");
    if program_type(kind)? == Support::Unsupported {
        return Ok(Support::Unsupported);
    }
    let setup = match setup(kind) {
        Ok(setup) => setup,
        Err(Unknown::No) => return Ok(Support::Unsupported),
        Err(Unknown::CannotTell(source, reason)) => {
            return Err(could_not_tell(feature, source, reason))
        }
    };
    // The call's arguments are left unset: the verifier refuses them only
    // once it knows the helper and that this type may call it.
    let program: Instructions = [
        Instruction::new(Op::Call(Call::Helper(id))),
        Instruction::new(Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: R0,
            src: Source::Imm(0),
        }),
        Instruction::new(Op::Exit),
    ]
    .into_iter()
    .collect::<std::result::Result<_, _>>()
    .map_err(|e| could_not_tell(&feature, io::Error::other(e), String::new()))?;
    let (fd, log) = load(&setup, &program, true);
    let Err(source) = fd else {
        return Ok(Support::Supported);
    };
    // 5.10: "unknown func"; since 5.13 "program of this type cannot use
    // helper"; an id past the kernel's last: "invalid func".
    let unknown = ["invalid func ", "unknown func ", "cannot use helper "];
    if unknown.iter().any(|words| log.contains(words)) {
        return Ok(Support::Unsupported);
    }
    match source.raw_os_error() {
        // Refused for something else (the unset arguments, a sleeping
        // helper in a program that may not sleep): the helper is there.
        Some(libc::EACCES | libc::EINVAL) if !log.is_empty() => Ok(Support::Supported),
        _ => {
            let hint = permission_hint(&feature, [kind], &source);
            Err(could_not_tell(feature, source, hint.unwrap_or(log)))
        }
    }
}

pub(super) fn isa(version: u8) -> Result<Support> {
    let feature = format!("ISA v{version}");
    let mut b = Builder::new();
    b.push(AluOp::Mov.imm(R0, 0));
    match version {
        1 => &mut b,
        // `if r0 < 1 goto +0`
        2 => b.push(Cond::Lt.imm(R0, 1, "next")),
        // `if w0 < 1 goto +0`
        3 => b.push(Cond::Lt.imm32(R0, 1, "next")),
        // `r0 = (s8)r0`
        4 => b.push(mov_sx(Size::Byte, R0, R0)),
        _ => {
            return Err(could_not_tell(
                feature,
                io::Error::from_raw_os_error(libc::EINVAL),
                "the ISA has versions 1 to 4".to_owned(),
            ))
        }
    };
    b.label("next").push(exit());
    let program = b
        .build()
        .map_err(|e| could_not_tell(&feature, io::Error::other(e), String::new()))?;
    let setup = Setup {
        kind: ProgramType::SOCKET_FILTER.0,
        ..Setup::default()
    };
    match load(&setup, &program, false).0 {
        Ok(_) => Ok(Support::Supported),
        Err(source) => {
            let hint = permission_hint(&feature, [ProgramType::SOCKET_FILTER], &source);
            refused(feature, source, hint)
        }
    }
}

/// Why a program type cannot be set up for a probe.
pub(super) enum Unknown {
    /// The kernel lacks what the type needs (its BTF has no such hook).
    No,
    /// The probe cannot be made here.
    CannotTell(io::Error, String),
}

/// What a probe program of type `kind` needs to load.
pub(super) fn setup(kind: ProgramType) -> std::result::Result<Setup, Unknown> {
    let mut setup = Setup {
        kind: kind.0,
        ..Setup::default()
    };
    let expected = match kind {
        ProgramType::CGROUP_SOCK => Some(AttachType::CGROUP_INET_SOCK_CREATE),
        ProgramType::CGROUP_SOCK_ADDR => Some(AttachType::CGROUP_INET4_CONNECT),
        ProgramType::CGROUP_SOCKOPT => Some(AttachType::CGROUP_GETSOCKOPT),
        ProgramType::SK_LOOKUP => Some(AttachType::SK_LOOKUP),
        ProgramType::NETFILTER => Some(AttachType::NETFILTER),
        ProgramType::TRACING => Some(AttachType::TRACE_FENTRY),
        ProgramType::LSM => Some(AttachType::LSM_MAC),
        _ => None,
    };
    setup.expected_attach_type = expected.map_or(0, |t| t.0);
    match kind {
        // Kernels before 5.0 check a kprobe's kernel version.
        ProgramType::KPROBE => setup.kern_version = kernel_version(),
        ProgramType::SYSCALL => setup.flags = sys::BPF_F_SLEEPABLE,
        ProgramType::TRACING => {
            setup.attach_btf_id = kernel_function(c"bpf_fentry_test1", AttachType::TRACE_FENTRY)?
        }
        ProgramType::LSM => {
            setup.attach_btf_id = kernel_function(c"file_open", AttachType::LSM_MAC)?
        }
        ProgramType::STRUCT_OPS => {
            let btf = KernelBtf::load().map_err(no_btf)?;
            let id = btf
                .find(c"tcp_congestion_ops", sys::BTF_KIND_STRUCT)
                .ok_or(Unknown::No)?;
            setup.attach_btf_id = id;
            setup.expected_attach_type = btf.member_index(id, "init").ok_or(Unknown::No)?;
        }
        ProgramType::EXT => {
            let target = Setup {
                kind: ProgramType::SOCKET_FILTER.0,
                with_btf: true,
                ..Setup::default()
            };
            let (fd, _) = load(&target, &returns_zero(), false);
            let fd = fd.map_err(|e| {
                Unknown::CannotTell(e, "loading the program an `ext` probe extends".to_owned())
            })?;
            setup.attach_prog = Some(fd);
            // The target's function: the BTF made for it has `int`, its
            // prototype, then the function.
            setup.attach_btf_id = 3;
            setup.with_btf = true;
        }
        _ => {}
    }
    Ok(setup)
}

/// The BTF id of the kernel function `name` as a hook of `attach_type`
/// (libbpf adds `bpf_lsm_` for LSM hooks).
fn kernel_function(
    name: &std::ffi::CStr,
    attach_type: AttachType,
) -> std::result::Result<u32, Unknown> {
    // SAFETY: a valid C string; libbpf loads and frees the kernel's BTF.
    let id = unsafe { sys::libbpf_find_vmlinux_btf_id(name.as_ptr(), attach_type.0) };
    match u32::try_from(id) {
        Ok(id) => Ok(id),
        Err(_) if -id == libc::ESRCH || -id == libc::ENOENT => Err(Unknown::No),
        Err(_) => Err(no_btf(io::Error::from_raw_os_error(-id))),
    }
}

fn no_btf(source: io::Error) -> Unknown {
    Unknown::CannotTell(
        source,
        "the kernel's BTF (/sys/kernel/btf/vmlinux), where its hooks are, cannot be read"
            .to_owned(),
    )
}

/// `LINUX_VERSION_CODE` of the running kernel.
fn kernel_version() -> u32 {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse::<u32>().ok());
    let (a, b, c) = (
        numbers.next().unwrap_or(0),
        numbers.next().unwrap_or(0),
        numbers.next().unwrap_or(0),
    );
    a << 16 | b << 8 | c.min(255)
}
