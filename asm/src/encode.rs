//! From an [`Op`] to its slots: every field placed as the instruction-set
//! document lays it out.

use crate::op::{Call, Op, Source};
use crate::opcode::{alu, call, jmp, mode, source, Class, Size, Swap, Width, ADDR_SPACE_CAST};
use crate::slot::Slot;

/// The slot of an instruction and, for a 64-bit immediate load, the second.
pub(crate) fn encode(op: &Op) -> (Slot, Option<Slot>) {
    let empty = Slot::default();
    let slot = match *op {
        Op::LoadImm64 { dst, value } => {
            let first = Slot {
                code: LDDW,
                dst: dst.number(),
                imm: value as i32,
                ..empty
            };
            return (first, Some(Slot::wide((value >> 32) as i32)));
        }
        Op::LoadPseudo {
            dst,
            pseudo,
            imm,
            next_imm,
        } => {
            let first = Slot {
                code: LDDW,
                dst: dst.number(),
                src: pseudo.number(),
                imm,
                ..empty
            };
            return (first, Some(Slot::wide(next_imm)));
        }
        Op::Alu {
            width,
            op,
            dst,
            src,
        } => {
            let (code, off) = op.code();
            let slot = with_source(alu_class(width) | code, src);
            Slot {
                dst: dst.number(),
                off,
                ..slot
            }
        }
        Op::Neg { width, dst } => Slot {
            code: alu_class(width) | alu::NEG,
            dst: dst.number(),
            ..empty
        },
        Op::MovSx {
            width,
            size,
            dst,
            src,
        } => Slot {
            code: alu_class(width) | alu::MOV | source::X,
            dst: dst.number(),
            src: src.number(),
            off: size.bytes() as i16 * 8,
            ..empty
        },
        Op::AddrSpaceCast {
            dst,
            src,
            dst_space,
            src_space,
        } => Slot {
            code: Class::Alu64 as u8 | alu::MOV | source::X,
            dst: dst.number(),
            src: src.number(),
            off: ADDR_SPACE_CAST,
            imm: (dst_space as i32) << 16 | src_space as i32,
        },
        Op::Swap { swap, bits, dst } => Slot {
            code: match swap {
                Swap::ToLe => Class::Alu as u8 | alu::END | source::K,
                Swap::ToBe => Class::Alu as u8 | alu::END | source::X,
                Swap::Bswap => Class::Alu64 as u8 | alu::END,
            },
            dst: dst.number(),
            imm: bits.bits(),
            ..empty
        },
        Op::LoadPacket { size, index, imm } => Slot {
            code: Class::Ld as u8
                | if index.is_some() {
                    mode::IND
                } else {
                    mode::ABS
                }
                | size.code(),
            src: index.map_or(0, |r| r.number()),
            imm,
            ..empty
        },
        Op::Load {
            size,
            sign_extend,
            dst,
            src,
            off,
        } => Slot {
            code: Class::Ldx as u8
                | if sign_extend { mode::MEMSX } else { mode::MEM }
                | size.code(),
            dst: dst.number(),
            src: src.number(),
            off,
            ..empty
        },
        Op::Store {
            size,
            dst,
            off,
            src,
        } => match src {
            Source::Imm(imm) => Slot {
                code: Class::St as u8 | mode::MEM | size.code(),
                dst: dst.number(),
                off,
                imm,
                ..empty
            },
            Source::Reg(src) => Slot {
                code: Class::Stx as u8 | mode::MEM | size.code(),
                dst: dst.number(),
                src: src.number(),
                off,
                ..empty
            },
        },
        Op::Atomic {
            size,
            op,
            dst,
            src,
            off,
        } => Slot {
            code: Class::Stx as u8 | mode::ATOMIC | size.code(),
            dst: dst.number(),
            src: src.number(),
            off,
            imm: op.code(),
        },
        Op::Jump {
            width,
            cond,
            dst,
            src,
            off,
        } => {
            let class = match width {
                Width::W32 => Class::Jmp32,
                Width::W64 => Class::Jmp,
            };
            Slot {
                dst: dst.number(),
                off,
                ..with_source(class as u8 | cond.code(), src)
            }
        }
        Op::Goto { off } => Slot {
            code: Class::Jmp as u8 | jmp::JA,
            off,
            ..empty
        },
        Op::GotoLong { off } => Slot {
            code: Class::Jmp32 as u8 | jmp::JA,
            imm: off,
            ..empty
        },
        Op::MayGoto { off } => Slot {
            code: Class::Jmp as u8 | jmp::JCOND,
            off,
            ..empty
        },
        Op::Call(target) => {
            let (src, off, imm) = match target {
                Call::Helper(id) => (call::HELPER, 0, id),
                Call::Local(off) => (call::LOCAL, 0, off),
                Call::Kfunc { btf_id, module } => (call::KFUNC, module, btf_id),
            };
            Slot {
                code: Class::Jmp as u8 | jmp::CALL,
                src,
                off,
                imm,
                ..empty
            }
        }
        Op::Exit => Slot {
            code: Class::Jmp as u8 | jmp::EXIT,
            ..empty
        },
    };
    (slot, None)
}

/// `LD | IMM | DW`: the opcode of every 64-bit immediate load.
const LDDW: u8 = Class::Ld as u8 | mode::IMM | Size::DWord.code();

fn alu_class(width: Width) -> u8 {
    match width {
        Width::W32 => Class::Alu as u8,
        Width::W64 => Class::Alu64 as u8,
    }
}

/// A slot with the opcode's source bit, and the immediate or source
/// register, set from `src`.
fn with_source(code: u8, src: Source) -> Slot {
    match src {
        Source::Imm(imm) => Slot {
            code: code | source::K,
            imm,
            ..Slot::default()
        },
        Source::Reg(reg) => Slot {
            code: code | source::X,
            src: reg.number(),
            ..Slot::default()
        },
    }
}
