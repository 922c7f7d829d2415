//! From slots to an [`Op`], refusing what the kernel refuses: unknown
//! opcodes, registers past r10, and non-zero fields an instruction does not
//! use (the verifier's "uses reserved fields").

use std::fmt;

use crate::check::{check, InvalidInstruction};
use crate::jumps::BadJump;
use crate::op::{Call, Op, Source};
use crate::opcode::{
    alu, call, jmp, mode, source, AluOp, AtomicOp, Class, Cond, Pseudo, Size, Swap, SwapBits,
    Width, ADDR_SPACE_CAST,
};
use crate::register::Register;
use crate::slot::Slot;

/// A field of a slot, as named in errors.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Field {
    /// The destination register.
    Dst,
    /// The source register.
    Src,
    /// The offset.
    Off,
    /// The immediate.
    Imm,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Dst => "destination register",
            Field::Src => "source register",
            Field::Off => "offset",
            Field::Imm => "immediate",
        })
    }
}

/// What is wrong with an encoded instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The bytes end inside a slot.
    Truncated {
        /// How many bytes are left (1 to 7).
        remaining: usize,
    },
    /// A 64-bit immediate load is the last slot: its second half is missing.
    MissingSecondSlot,
    /// The second slot of a 64-bit immediate load has more than an
    /// immediate set.
    BadSecondSlot,
    /// No instruction has this opcode.
    UnknownOpcode(u8),
    /// A field this instruction does not use is not zero.
    ReservedField {
        /// The field.
        field: Field,
        /// Its value.
        value: i32,
    },
    /// A register field names a register past r10.
    NoSuchRegister {
        /// The field.
        field: Field,
        /// The number in it.
        number: u8,
    },
    /// A field holds a value the instruction does not define (an atomic
    /// operation, a swap width, a pseudo source, a call kind, ...).
    UnknownValue {
        /// The field.
        field: Field,
        /// Its value.
        value: i32,
    },
    /// The fields are well-formed, but the kernel rejects the instruction.
    Invalid(InvalidInstruction),
    /// A jump lands where no instruction of the program starts.
    BadJump(BadJump),
}

/// An instruction that could not be decoded, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The byte offset of the instruction's first slot.
    pub offset: usize,
    /// Its opcode, when there was a whole slot to read it from.
    pub opcode: Option<u8>,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "instruction at byte {} (slot {})",
            self.offset,
            self.offset / 8
        )?;
        if let Some(code) = self.opcode {
            write!(f, ", opcode {code:#04x}")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            DecodeErrorKind::Truncated { remaining } => write!(
                f,
                "truncated: {remaining} byte{} left, an instruction takes 8",
                if *remaining == 1 { "" } else { "s" }
            ),
            DecodeErrorKind::MissingSecondSlot => {
                f.write_str("a 64-bit immediate load takes 16 bytes, and the program ends after 8")
            }
            DecodeErrorKind::BadSecondSlot => f.write_str(
                "the second half of a 64-bit immediate load must have only its \
                 immediate set (opcode, registers and offset 0)",
            ),
            DecodeErrorKind::UnknownOpcode(code) => {
                write!(f, "unknown opcode")?;
                match *code {
                    0x8d => f.write_str(
                        " (callx, a call through a register, is not accepted by the kernel)",
                    ),
                    0x0d => f.write_str(" (gotox, an indirect jump, is not part of ISA v4)"),
                    _ => Ok(()),
                }
            }
            DecodeErrorKind::ReservedField { field, value } => write!(
                f,
                "the {field} is unused by this instruction and must be 0, not {value:#x}"
            ),
            DecodeErrorKind::NoSuchRegister { field, number } => {
                write!(f, "the {field} is r{number}: there are only r0 to r10")
            }
            DecodeErrorKind::UnknownValue { field, value } => {
                write!(f, "the {field} {value:#x} means nothing for this opcode")
            }
            DecodeErrorKind::Invalid(invalid) => invalid.fmt(f),
            DecodeErrorKind::BadJump(bad) => bad.fmt(f),
        }
    }
}

impl std::error::Error for DecodeError {}

type Result<T> = std::result::Result<T, DecodeErrorKind>;

/// Decodes the instruction starting at `first`; `next` is the slot after
/// it, if any. Returns the instruction and how many slots it took.
pub(crate) fn decode(first: Slot, next: Option<Slot>) -> Result<(Op, usize)> {
    let op = match Class::of(first.code) {
        Class::Ld => return decode_ld(first, next),
        Class::Ldx => decode_ldx(first)?,
        Class::St => decode_st(first)?,
        Class::Stx => decode_stx(first)?,
        Class::Alu => decode_alu(first, Width::W32)?,
        Class::Alu64 => decode_alu(first, Width::W64)?,
        Class::Jmp => decode_jmp(first, Width::W64)?,
        Class::Jmp32 => decode_jmp(first, Width::W32)?,
    };
    check(&op).map_err(DecodeErrorKind::Invalid)?;
    Ok((op, 1))
}

fn register(field: Field, number: u8) -> Result<Register> {
    Register::from_number(number).ok_or(DecodeErrorKind::NoSuchRegister { field, number })
}

fn dst(slot: Slot) -> Result<Register> {
    register(Field::Dst, slot.dst)
}

fn src(slot: Slot) -> Result<Register> {
    register(Field::Src, slot.src)
}

/// Requires the fields an instruction does not use to be zero.
fn unused(slot: Slot, fields: &[Field]) -> Result<()> {
    for &field in fields {
        let value = match field {
            Field::Dst => slot.dst as i32,
            Field::Src => slot.src as i32,
            Field::Off => slot.off as i32,
            Field::Imm => slot.imm,
        };
        if value != 0 {
            return Err(DecodeErrorKind::ReservedField { field, value });
        }
    }
    Ok(())
}

/// The source register (`X`) or immediate (`K`), the other field unused.
fn source_operand(slot: Slot, by_register: bool) -> Result<Source> {
    if by_register {
        unused(slot, &[Field::Imm])?;
        Ok(Source::Reg(src(slot)?))
    } else {
        unused(slot, &[Field::Src])?;
        Ok(Source::Imm(slot.imm))
    }
}

fn unknown_opcode(slot: Slot) -> DecodeErrorKind {
    DecodeErrorKind::UnknownOpcode(slot.code)
}

fn decode_ld(first: Slot, next: Option<Slot>) -> Result<(Op, usize)> {
    let size = Size::from_code(first.code);
    let op = match first.code & 0xe0 {
        mode::IMM if size == Size::DWord => return decode_wide(first, next),
        mode::ABS if size != Size::DWord => {
            unused(first, &[Field::Dst, Field::Src, Field::Off])?;
            Op::LoadPacket {
                size,
                index: None,
                imm: first.imm,
            }
        }
        mode::IND if size != Size::DWord => {
            unused(first, &[Field::Dst, Field::Off])?;
            Op::LoadPacket {
                size,
                index: Some(src(first)?),
                imm: first.imm,
            }
        }
        _ => return Err(unknown_opcode(first)),
    };
    Ok((op, 1))
}

/// The two slots of a 64-bit immediate load.
fn decode_wide(first: Slot, next: Option<Slot>) -> Result<(Op, usize)> {
    unused(first, &[Field::Off])?;
    let next = next.ok_or(DecodeErrorKind::MissingSecondSlot)?;
    if next.code != 0 || next.dst != 0 || next.src != 0 || next.off != 0 {
        return Err(DecodeErrorKind::BadSecondSlot);
    }
    let dst = dst(first)?;
    let op = match first.src {
        0 => Op::LoadImm64 {
            dst,
            value: (next.imm as i64) << 32 | first.imm as u32 as i64,
        },
        number => Op::LoadPseudo {
            dst,
            pseudo: Pseudo::from_number(number).ok_or(DecodeErrorKind::UnknownValue {
                field: Field::Src,
                value: number as i32,
            })?,
            imm: first.imm,
            next_imm: next.imm,
        },
    };
    check(&op).map_err(DecodeErrorKind::Invalid)?;
    Ok((op, 2))
}

fn decode_ldx(slot: Slot) -> Result<Op> {
    let size = Size::from_code(slot.code);
    let sign_extend = match slot.code & 0xe0 {
        mode::MEM => false,
        mode::MEMSX if size != Size::DWord => true,
        _ => return Err(unknown_opcode(slot)),
    };
    unused(slot, &[Field::Imm])?;
    Ok(Op::Load {
        size,
        sign_extend,
        dst: dst(slot)?,
        src: src(slot)?,
        off: slot.off,
    })
}

fn decode_st(slot: Slot) -> Result<Op> {
    if slot.code & 0xe0 != mode::MEM {
        return Err(unknown_opcode(slot));
    }
    unused(slot, &[Field::Src])?;
    Ok(Op::Store {
        size: Size::from_code(slot.code),
        dst: dst(slot)?,
        off: slot.off,
        src: Source::Imm(slot.imm),
    })
}

fn decode_stx(slot: Slot) -> Result<Op> {
    let size = Size::from_code(slot.code);
    match slot.code & 0xe0 {
        mode::MEM => {
            unused(slot, &[Field::Imm])?;
            Ok(Op::Store {
                size,
                dst: dst(slot)?,
                off: slot.off,
                src: Source::Reg(src(slot)?),
            })
        }
        mode::ATOMIC => Ok(Op::Atomic {
            size,
            op: AtomicOp::from_code(slot.imm).ok_or(DecodeErrorKind::UnknownValue {
                field: Field::Imm,
                value: slot.imm,
            })?,
            dst: dst(slot)?,
            src: src(slot)?,
            off: slot.off,
        }),
        _ => Err(unknown_opcode(slot)),
    }
}

fn decode_alu(slot: Slot, width: Width) -> Result<Op> {
    let by_register = slot.code & source::X != 0;
    let dst = dst(slot)?;
    match slot.code & 0xf0 {
        alu::NEG if !by_register => {
            unused(slot, &[Field::Src, Field::Off, Field::Imm])?;
            Ok(Op::Neg { width, dst })
        }
        alu::END if !(width == Width::W64 && by_register) => {
            unused(slot, &[Field::Src, Field::Off])?;
            let bits = SwapBits::from_bits(slot.imm).ok_or(DecodeErrorKind::UnknownValue {
                field: Field::Imm,
                value: slot.imm,
            })?;
            let swap = match (width, by_register) {
                (Width::W64, _) => Swap::Bswap,
                (Width::W32, false) => Swap::ToLe,
                (Width::W32, true) => Swap::ToBe,
            };
            Ok(Op::Swap { swap, bits, dst })
        }
        alu::MOV if by_register => decode_mov_reg(slot, width, dst),
        code @ (alu::ADD
        | alu::SUB
        | alu::MUL
        | alu::DIV
        | alu::OR
        | alu::AND
        | alu::LSH
        | alu::RSH
        | alu::MOD
        | alu::XOR
        | alu::MOV
        | alu::ARSH) => {
            let op = alu_op(code, slot.off)?;
            let src = source_operand(slot, by_register)?;
            Ok(Op::Alu {
                width,
                op,
                dst,
                src,
            })
        }
        _ => Err(unknown_opcode(slot)),
    }
}

/// The operation of an arithmetic opcode field; the offset selects the
/// signed division and modulo, and is 0 for everything else.
fn alu_op(code: u8, off: i16) -> Result<AluOp> {
    let signed = match off {
        0 => false,
        1 if code == alu::DIV || code == alu::MOD => true,
        _ => {
            return Err(DecodeErrorKind::ReservedField {
                field: Field::Off,
                value: off as i32,
            })
        }
    };
    let op = AluOp::ALL
        .into_iter()
        .find(|op| op.code() == (code, signed as i16));
    // Every field value reaching here is in the table.
    op.ok_or(DecodeErrorKind::UnknownValue {
        field: Field::Off,
        value: off as i32,
    })
}

/// `MOV | X`: a move, a sign-extending move (offset 8, 16, 32) or, for
/// 64 bits, an address-space cast (offset 1).
fn decode_mov_reg(slot: Slot, width: Width, dst: Register) -> Result<Op> {
    let src = src(slot)?;
    if width == Width::W64 && slot.off == ADDR_SPACE_CAST {
        return Ok(Op::AddrSpaceCast {
            dst,
            src,
            dst_space: (slot.imm as u32 >> 16) as u16,
            src_space: slot.imm as u16,
        });
    }
    unused(slot, &[Field::Imm])?;
    if slot.off == 0 {
        return Ok(Op::Alu {
            width,
            op: AluOp::Mov,
            dst,
            src: Source::Reg(src),
        });
    }
    let size = match slot.off {
        8 => Size::Byte,
        16 => Size::Half,
        32 => Size::Word,
        off => {
            return Err(DecodeErrorKind::UnknownValue {
                field: Field::Off,
                value: off as i32,
            })
        }
    };
    Ok(Op::MovSx {
        width,
        size,
        dst,
        src,
    })
}

fn decode_jmp(slot: Slot, width: Width) -> Result<Op> {
    let by_register = slot.code & source::X != 0;
    let wide = width == Width::W64;
    match slot.code & 0xf0 {
        jmp::JA if !by_register => {
            unused(slot, &[Field::Dst, Field::Src])?;
            if wide {
                unused(slot, &[Field::Imm])?;
                Ok(Op::Goto { off: slot.off })
            } else {
                unused(slot, &[Field::Off])?;
                Ok(Op::GotoLong { off: slot.imm })
            }
        }
        jmp::CALL if wide && !by_register => decode_call(slot),
        jmp::EXIT if wide && !by_register => {
            unused(slot, &[Field::Dst, Field::Src, Field::Off, Field::Imm])?;
            Ok(Op::Exit)
        }
        jmp::JCOND if wide && !by_register => {
            if slot.src != 0 {
                return Err(DecodeErrorKind::UnknownValue {
                    field: Field::Src,
                    value: slot.src as i32,
                });
            }
            unused(slot, &[Field::Dst, Field::Imm])?;
            Ok(Op::MayGoto { off: slot.off })
        }
        code => {
            let cond = Cond::from_code(code).ok_or(unknown_opcode(slot))?;
            let src = source_operand(slot, by_register)?;
            Ok(Op::Jump {
                width,
                cond,
                dst: dst(slot)?,
                src,
                off: slot.off,
            })
        }
    }
}

fn decode_call(slot: Slot) -> Result<Op> {
    unused(slot, &[Field::Dst])?;
    let target = match slot.src {
        call::HELPER => Call::Helper(slot.imm),
        call::LOCAL => Call::Local(slot.imm),
        call::KFUNC => {
            return Ok(Op::Call(Call::Kfunc {
                btf_id: slot.imm,
                module: slot.off,
            }))
        }
        other => {
            return Err(DecodeErrorKind::UnknownValue {
                field: Field::Src,
                value: other as i32,
            })
        }
    };
    unused(slot, &[Field::Off])?;
    Ok(Op::Call(target))
}
