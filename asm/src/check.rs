//! The rules the kernel's verifier applies to each instruction on its own
//! (kernel/bpf/verifier.c: reserved fields, operand sizes, immediates),
//! checked before an [`Op`] becomes an [`Instruction`](crate::Instruction).

use std::fmt;

use crate::op::{Call, Op, Source};
use crate::opcode::{AluOp, AtomicOp, Pseudo, Size, Width};
use crate::register::Register;

/// Why the kernel would reject an instruction on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidInstruction {
    /// It writes `r10`, the read-only frame pointer.
    WritesFramePointer,
    /// A shift by an immediate not below the operand width.
    ShiftOutOfRange {
        /// The shift amount.
        amount: i32,
        /// The operand width in bits.
        bits: u32,
    },
    /// A division or modulo by the immediate 0.
    DivisionByZero,
    /// A sign-extending move from a size the width does not allow.
    MovSxSize {
        /// The operand width.
        width: Width,
        /// The size extended from.
        size: Size,
    },
    /// An address-space cast other than between spaces 0 and 1.
    AddrSpaceCast {
        /// The space converted to.
        dst_space: u16,
        /// The space converted from.
        src_space: u16,
    },
    /// A map load by fd or index with a non-zero second immediate.
    PseudoNextImm {
        /// What the load names.
        pseudo: Pseudo,
        /// The second immediate.
        next_imm: i32,
    },
    /// A legacy packet load of a double word.
    PacketLoadSize,
    /// A sign-extending load of a double word.
    SignExtendDWord,
    /// An atomic read-modify-write of a byte or half word.
    AtomicSize {
        /// The operation.
        op: AtomicOp,
        /// The size.
        size: Size,
    },
    /// A kfunc call with a negative module index.
    NegativeKfuncModule(i16),
}

impl fmt::Display for InvalidInstruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidInstruction::WritesFramePointer => {
                f.write_str("r10 is the frame pointer and is read-only")
            }
            InvalidInstruction::ShiftOutOfRange { amount, bits } => write!(
                f,
                "a {bits}-bit shift by {amount}: the amount must be 0 to {}",
                bits - 1
            ),
            InvalidInstruction::DivisionByZero => f.write_str("division by the immediate 0"),
            InvalidInstruction::MovSxSize { width, size } => write!(
                f,
                "a {}-bit sign-extending move from {} bits: allowed are {}",
                width.bits(),
                size.bytes() * 8,
                match width {
                    Width::W32 => "8 and 16",
                    Width::W64 => "8, 16 and 32",
                }
            ),
            InvalidInstruction::AddrSpaceCast {
                dst_space,
                src_space,
            } => write!(
                f,
                "addr_space_cast from space {src_space} to {dst_space}: \
                 the kernel converts only between address spaces 0 and 1"
            ),
            InvalidInstruction::PseudoNextImm { pseudo, next_imm } => write!(
                f,
                "a load of a map by {} must have 0 in its second immediate, not {next_imm:#x}",
                if *pseudo == Pseudo::MapFd {
                    "fd"
                } else {
                    "index"
                }
            ),
            InvalidInstruction::PacketLoadSize => {
                f.write_str("a packet load (skb[...]) reads a byte, half or word, not a u64")
            }
            InvalidInstruction::SignExtendDWord => {
                f.write_str("a sign-extending load reads s8, s16 or s32, not 64 bits")
            }
            InvalidInstruction::AtomicSize { op, size } => write!(
                f,
                "an atomic {} of a u{}: read-modify-write atomics take u32 or u64",
                atomic_name(*op),
                size.bytes() * 8
            ),
            InvalidInstruction::NegativeKfuncModule(module) => write!(
                f,
                "a kfunc call's module index is {module}: it must not be negative"
            ),
        }
    }
}

impl std::error::Error for InvalidInstruction {}

fn atomic_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        AtomicOp::Xor => "xor",
        AtomicOp::FetchAdd => "fetch-add",
        AtomicOp::FetchOr => "fetch-or",
        AtomicOp::FetchAnd => "fetch-and",
        AtomicOp::FetchXor => "fetch-xor",
        AtomicOp::Xchg => "exchange",
        AtomicOp::CmpXchg => "compare-exchange",
        AtomicOp::LoadAcquire => "load-acquire",
        AtomicOp::StoreRelease => "store-release",
    }
}

/// Checks one instruction against the kernel's per-instruction rules.
pub(crate) fn check(op: &Op) -> Result<(), InvalidInstruction> {
    if op.written_register() == Some(Register::R10) {
        return Err(InvalidInstruction::WritesFramePointer);
    }
    match *op {
        Op::Alu {
            width,
            op,
            src: Source::Imm(imm),
            ..
        } => check_alu_imm(width, op, imm),
        Op::MovSx { width, size, .. } => {
            let allowed = match width {
                Width::W32 => matches!(size, Size::Byte | Size::Half),
                Width::W64 => size != Size::DWord,
            };
            ok_or(allowed, InvalidInstruction::MovSxSize { width, size })
        }
        Op::AddrSpaceCast {
            dst_space,
            src_space,
            ..
        } => ok_or(
            matches!((dst_space, src_space), (0, 1) | (1, 0)),
            InvalidInstruction::AddrSpaceCast {
                dst_space,
                src_space,
            },
        ),
        Op::LoadPseudo {
            pseudo, next_imm, ..
        } => ok_or(
            pseudo.uses_next_imm() || next_imm == 0,
            InvalidInstruction::PseudoNextImm { pseudo, next_imm },
        ),
        Op::LoadPacket { size, .. } => {
            ok_or(size != Size::DWord, InvalidInstruction::PacketLoadSize)
        }
        Op::Load {
            size: Size::DWord,
            sign_extend: true,
            ..
        } => Err(InvalidInstruction::SignExtendDWord),
        Op::Atomic { size, op, .. } => {
            let ordered = matches!(op, AtomicOp::LoadAcquire | AtomicOp::StoreRelease);
            ok_or(
                ordered || matches!(size, Size::Word | Size::DWord),
                InvalidInstruction::AtomicSize { op, size },
            )
        }
        Op::Call(Call::Kfunc { module, .. }) => {
            ok_or(module >= 0, InvalidInstruction::NegativeKfuncModule(module))
        }
        _ => Ok(()),
    }
}

fn check_alu_imm(width: Width, op: AluOp, imm: i32) -> Result<(), InvalidInstruction> {
    if op.is_shift() && !(0..width.bits() as i32).contains(&imm) {
        return Err(InvalidInstruction::ShiftOutOfRange {
            amount: imm,
            bits: width.bits(),
        });
    }
    ok_or(
        !(op.is_division() && imm == 0),
        InvalidInstruction::DivisionByZero,
    )
}

fn ok_or(ok: bool, error: InvalidInstruction) -> Result<(), InvalidInstruction> {
    if ok {
        Ok(())
    } else {
        Err(error)
    }
}
