//! The text form: what `llvm-objdump -d --no-show-raw-insn` (LLVM 19)
//! prints for an instruction, without the address and the `<symbol+off>`
//! of jump targets.
//!
//! Where LLVM 19's text loses a field, a form of this crate's own keeps it,
//! so that every instruction prints differently (and parses back):
//! - the 32-bit atomics LLVM only decodes with `--mattr=+alu32` (fetch,
//!   or/and/xor, exchange, compare-exchange) print as it prints them then;
//! - load-acquire and store-release print as LLVM 21 does;
//! - a call to a subprogram is `call pc+0x3`, a kfunc call `call kfunc 0x1234`
//!   (LLVM prints both as a helper call);
//! - `ld_pseudo` shows its second immediate when it is not 0, and an
//!   indirect packet load its immediate (`skb[r2 + 0x4]`).
//!
//! A symbolic reference (see [`Instructions`](crate::Instructions)) prints
//! by name: `goto out`, `call my_function`, `call kfunc bpf_task_acquire`,
//! `r1 = map(counts) ll`, `r1 = map_value(.bss) + 0x10 ll`.

use std::fmt::{self, Display, Formatter, Write};

use crate::instruction::Instruction;
use crate::op::{Call, Op, Source};
use crate::opcode::{AtomicOp, Pseudo, Size, Swap, Width};
use crate::register::Register;

impl Display for Instruction {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_op(f, self.op(), None)
    }
}

/// Writes each item on a line of its own (no newline after the last).
pub(crate) fn write_lines(f: &mut Formatter<'_>, items: &[impl Display]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str("\n")?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

/// Writes one instruction; `reference` is the name that stands for its
/// target (a label, map or kfunc), if it has one.
pub(crate) fn write_op(f: &mut impl Write, op: &Op, reference: Option<&str>) -> fmt::Result {
    match *op {
        Op::Alu {
            width,
            op,
            dst,
            src,
        } => write!(
            f,
            "{} {} {}",
            reg(width, dst),
            op.operator(),
            source(width, src)
        ),
        Op::Neg { width, dst } => write!(f, "{0} = -{0}", reg(width, dst)),
        Op::MovSx {
            width,
            size,
            dst,
            src,
        } => write!(
            f,
            "{} = (s{}){}",
            reg(width, dst),
            size.bytes() * 8,
            reg(width, src)
        ),
        Op::AddrSpaceCast {
            dst,
            src,
            dst_space,
            src_space,
        } => write!(
            f,
            "{dst} = addr_space_cast({src}, {dst_space:#x}, {src_space:#x})"
        ),
        Op::Swap { swap, bits, dst } => {
            let name = match swap {
                Swap::ToLe => "le",
                Swap::ToBe => "be",
                Swap::Bswap => "bswap",
            };
            write!(f, "{dst} = {name}{} {dst}", bits.bits())
        }
        Op::LoadImm64 { dst, value } => write!(f, "{dst} = {} ll", Hex(value)),
        Op::LoadPseudo {
            dst,
            pseudo,
            imm,
            next_imm,
        } => write_pseudo(f, dst, pseudo, imm, next_imm, reference),
        Op::LoadPacket { size, index, imm } => {
            write!(f, "r0 = *(u{} *)skb[", size.bytes() * 8)?;
            match index {
                None => write!(f, "{}]", Hex(imm)),
                Some(index) if imm == 0 => write!(f, "{index}]"),
                Some(index) => write!(f, "{index}{}]", Displacement(imm)),
            }
        }
        Op::Load {
            size,
            sign_extend,
            dst,
            src,
            off,
        } => {
            let sign = if sign_extend { 's' } else { 'u' };
            write!(
                f,
                "{dst} = *({sign}{} *){}",
                size.bytes() * 8,
                Address(src, off)
            )
        }
        Op::Store {
            size,
            dst,
            off,
            src,
        } => write!(
            f,
            "*(u{} *){} = {}",
            size.bytes() * 8,
            Address(dst, off),
            source(Width::W64, src)
        ),
        Op::Atomic {
            size,
            op,
            dst,
            src,
            off,
        } => write_atomic(f, size, op, dst, src, off),
        Op::Jump {
            width,
            cond,
            dst,
            src,
            off,
        } => {
            write!(
                f,
                "if {} {} {} goto ",
                reg(width, dst),
                cond.operator(),
                source(width, src)
            )?;
            target(f, off as i32, reference)
        }
        Op::Goto { off } => {
            f.write_str("goto ")?;
            target(f, off as i32, reference)
        }
        Op::GotoLong { off } => {
            f.write_str("gotol ")?;
            target(f, off, reference)
        }
        Op::MayGoto { off } => {
            f.write_str("may_goto ")?;
            target(f, off as i32, reference)
        }
        Op::Call(call) => write_call(f, call, reference),
        Op::Exit => f.write_str("exit"),
    }
}

fn write_pseudo(
    f: &mut impl Write,
    dst: Register,
    pseudo: Pseudo,
    imm: i32,
    next_imm: i32,
    reference: Option<&str>,
) -> fmt::Result {
    match (pseudo, reference) {
        (Pseudo::MapFd, Some(name)) => write!(f, "{dst} = map({name}) ll"),
        (Pseudo::MapValue, Some(name)) => {
            write!(f, "{dst} = map_value({name}) + {:#x} ll", next_imm as u32)
        }
        _ => {
            // LLVM prints the first immediate unsigned.
            write!(f, "ld_pseudo\t{dst}, {:#x}, ", pseudo.number())?;
            match reference {
                Some(name) => f.write_str(name)?,
                None => write!(f, "{:#x}", imm as u32)?,
            }
            if next_imm != 0 {
                write!(f, ", {:#x}", next_imm as u32)?;
            }
            Ok(())
        }
    }
}

fn write_atomic(
    f: &mut impl Write,
    size: Size,
    op: AtomicOp,
    dst: Register,
    src: Register,
    off: i16,
) -> fmt::Result {
    let bits = size.bytes() * 8;
    let width = if size == Size::DWord {
        Width::W64
    } else {
        Width::W32
    };
    let value = reg(width, src);
    let at = Address(dst, off);
    match op {
        // LLVM 19 prints the 32-bit add with an `r` register, the rest of
        // the 32-bit atomics (which it decodes with +alu32 only) with `w`.
        AtomicOp::Add => write!(f, "lock *(u{bits} *){at} += {src}"),
        AtomicOp::Or => write!(f, "lock *(u{bits} *){at} |= {value}"),
        AtomicOp::And => write!(f, "lock *(u{bits} *){at} &= {value}"),
        AtomicOp::Xor => write!(f, "lock *(u{bits} *){at} ^= {value}"),
        AtomicOp::FetchAdd | AtomicOp::FetchOr | AtomicOp::FetchAnd | AtomicOp::FetchXor => {
            let name = match op {
                AtomicOp::FetchAdd => "add",
                AtomicOp::FetchOr => "or",
                AtomicOp::FetchAnd => "and",
                _ => "xor",
            };
            write!(f, "{value} = atomic_fetch_{name}((u{bits} *){at}, {value})")
        }
        AtomicOp::Xchg => write!(
            f,
            "{value} = {}({}, {value})",
            xchg_name(width, "xchg"),
            Inner(at)
        ),
        AtomicOp::CmpXchg => {
            let r0 = reg(width, Register::R0);
            write!(
                f,
                "{r0} = {}({}, {r0}, {value})",
                xchg_name(width, "cmpxchg"),
                Inner(at)
            )
        }
        AtomicOp::LoadAcquire => {
            let at = Address(src, off);
            write!(f, "{} = load_acquire((u{bits} *){at})", reg(width, dst))
        }
        AtomicOp::StoreRelease => write!(f, "store_release((u{bits} *){at}, {value})"),
    }
}

/// `xchg_64` and `xchg32_32`, `cmpxchg_64` and `cmpxchg32_32`.
fn xchg_name(width: Width, name: &str) -> String {
    match width {
        Width::W64 => format!("{name}_64"),
        Width::W32 => format!("{name}32_32"),
    }
}

fn write_call(f: &mut impl Write, call: Call, reference: Option<&str>) -> fmt::Result {
    match (call, reference) {
        (Call::Helper(id), _) => write!(f, "call {}", Hex(id)),
        (Call::Local(_), Some(name)) => write!(f, "call {name}"),
        (Call::Local(off), None) => write!(f, "call pc{}", Offset(off)),
        (Call::Kfunc { .. }, Some(name)) => write!(f, "call kfunc {name}"),
        (Call::Kfunc { btf_id, module }, None) => {
            write!(f, "call kfunc {:#x}", btf_id as u32)?;
            if module != 0 {
                write!(f, ", {module:#x}")?;
            }
            Ok(())
        }
    }
}

fn target(f: &mut impl Write, off: i32, reference: Option<&str>) -> fmt::Result {
    match reference {
        Some(name) => f.write_str(name),
        None => write!(f, "{}", Offset(off)),
    }
}

/// `r1` or `w1`.
fn reg(width: Width, register: Register) -> impl Display {
    struct Named(Width, Register);
    impl Display for Named {
        fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
            let prefix = match self.0 {
                Width::W32 => 'w',
                Width::W64 => 'r',
            };
            write!(f, "{prefix}{}", self.1.number())
        }
    }
    Named(width, register)
}

fn source(width: Width, src: Source) -> impl Display {
    struct Operand(Width, Source);
    impl Display for Operand {
        fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
            match self.1 {
                Source::Imm(imm) => Hex(imm).fmt(f),
                Source::Reg(register) => reg(self.0, register).fmt(f),
            }
        }
    }
    Operand(width, src)
}

/// A signed number in LLVM's hex: `0x7b`, `-0x1`.
pub(crate) struct Hex<T>(pub T);

impl<T: Into<i64> + Copy> Display for Hex<T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let value: i64 = self.0.into();
        if value < 0 {
            write!(f, "-{:#x}", value.unsigned_abs())
        } else {
            write!(f, "{value:#x}")
        }
    }
}

/// A jump offset: `+0x3`, `-0x2`.
struct Offset(i32);

impl Display for Offset {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            write!(f, "-{:#x}", self.0.unsigned_abs())
        } else {
            write!(f, "+{:#x}", self.0)
        }
    }
}

/// ` + 0x4` or ` - 0x4` after a base register.
struct Displacement(i32);

impl Display for Displacement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        write!(f, " {sign} {:#x}", self.0.unsigned_abs())
    }
}

/// `(r10 - 0x8)`.
#[derive(Clone, Copy)]
struct Address(Register, i16);

impl Display for Address {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "({}{})", self.0, Displacement(self.1 as i32))
    }
}

/// An address without its parentheses, as the exchanges print it.
struct Inner(Address);

impl Display for Inner {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.0 .0, Displacement(self.0 .1 as i32))
    }
}
