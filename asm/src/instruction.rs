//! [`Instruction`]: an [`Op`] the kernel's per-instruction rules accept.

use crate::check::{check, InvalidInstruction};
use crate::decode::{decode, DecodeError, DecodeErrorKind};
use crate::encode::encode;
use crate::op::Op;
use crate::opcode::Class;
use crate::slot::{Endian, Slot};

/// One eBPF instruction the kernel accepts on its own: an [`Op`] that
/// passed the verifier's per-instruction checks (reserved fields, sizes,
/// immediates, no write to `r10`).
///
/// Its fields are those of the encoding ([`opcode`](Self::opcode),
/// [`dst`](Self::dst), [`src`](Self::src), [`offset`](Self::offset),
/// [`imm`](Self::imm)); [`op`](Self::op) tells what it does. `Display`
/// prints it as `llvm-objdump` does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Instruction(Op);

impl Instruction {
    /// Checks `op` against the kernel's per-instruction rules.
    pub fn new(op: Op) -> Result<Instruction, InvalidInstruction> {
        check(&op)?;
        Ok(Instruction(op))
    }

    /// What the instruction does.
    pub const fn op(&self) -> &Op {
        &self.0
    }

    /// The first slot's fields and, for a 64-bit immediate load, the
    /// second's.
    pub fn slots(&self) -> (Slot, Option<Slot>) {
        encode(&self.0)
    }

    /// How many 8-byte slots it takes: 2 for a 64-bit immediate load.
    pub const fn slot_count(&self) -> usize {
        self.0.slots()
    }

    /// The opcode byte.
    pub fn opcode(&self) -> u8 {
        self.slots().0.code
    }

    /// The class (low three bits of the opcode).
    pub fn class(&self) -> Class {
        Class::of(self.opcode())
    }

    /// The destination register field.
    pub fn dst(&self) -> u8 {
        self.slots().0.dst
    }

    /// The source register field (the pseudo source or call kind where
    /// those use it).
    pub fn src(&self) -> u8 {
        self.slots().0.src
    }

    /// The offset field.
    pub fn offset(&self) -> i16 {
        self.slots().0.off
    }

    /// The immediate field (of the first slot).
    pub fn imm(&self) -> i32 {
        self.slots().0.imm
    }

    /// The second slot's immediate, for a 64-bit immediate load.
    pub fn next_imm(&self) -> Option<i32> {
        self.slots().1.map(|slot| slot.imm)
    }

    /// Decodes one instruction from the start of `bytes` and tells how many
    /// bytes it took (8 or 16).
    pub fn decode(bytes: &[u8], endian: Endian) -> Result<(Instruction, usize), DecodeError> {
        let slot_at = |at: usize| {
            let bytes: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
            Some(Slot::from_bytes(bytes, endian))
        };
        let Some(first) = slot_at(0) else {
            return Err(DecodeError {
                offset: 0,
                opcode: None,
                kind: DecodeErrorKind::Truncated {
                    remaining: bytes.len(),
                },
            });
        };
        match decode(first, slot_at(8)) {
            Ok((op, slots)) => Ok((Instruction(op), slots * 8)),
            Err(kind) => Err(DecodeError {
                offset: 0,
                opcode: Some(first.code),
                kind,
            }),
        }
    }

    /// Appends the instruction's 8 or 16 bytes in `endian` order.
    pub fn encode_into(&self, endian: Endian, out: &mut Vec<u8>) {
        let (first, second) = self.slots();
        out.extend_from_slice(&first.to_bytes(endian));
        if let Some(second) = second {
            out.extend_from_slice(&second.to_bytes(endian));
        }
    }
}

impl TryFrom<Op> for Instruction {
    type Error = InvalidInstruction;

    fn try_from(op: Op) -> Result<Instruction, InvalidInstruction> {
        Instruction::new(op)
    }
}

impl From<Instruction> for Op {
    fn from(instruction: Instruction) -> Op {
        instruction.0
    }
}
