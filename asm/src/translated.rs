//! What a kernel gives back after verifying a program
//! (`bpf_prog_info.xlated_prog_insns`, `bpftool prog dump xlated`): mostly
//! instructions, and a few forms only the kernel writes, which it would
//! refuse to load. They are kept apart from [`Instruction`] so that an
//! `Instruction` stays something the kernel takes.

use std::collections::BTreeMap;
use std::fmt;

use crate::decode::DecodeError;
use crate::display::{write_op, Hex};
use crate::instruction::Instruction;
use crate::op::{Call, Op};
use crate::register::Register;
use crate::slot::{Endian, Slot};

/// `BPF_JMP | BPF_CALL`
const CALL: u8 = 0x85;
/// `BPF_ALU64 | BPF_MOV | BPF_X`
const MOV64_REG: u8 = 0xbf;
/// `BPF_ST | BPF_NOSPEC`
const NOSPEC: u8 = 0xc2;
/// `BPF_PSEUDO_CALL`
const PSEUDO_CALL: u8 = 1;
/// The offset of a move that makes a per-CPU address (`BPF_ADDR_PERCPU`).
const ADDR_PERCPU: i16 = -1;

/// One unit of a translated program.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Translated {
    /// An instruction of the ISA.
    Instruction(Instruction),
    /// A call of a subprogram as the kernel leaves it after JIT
    /// compilation: the relative offset moved to `off` (`call pc+off`), the
    /// immediate holding the subprogram's number.
    SubprogramCall {
        /// Slots from the next instruction to the subprogram.
        off: i16,
        /// The subprogram's number (0 is the main program).
        subprogram: i32,
    },
    /// `dst = &(void __percpu *)(src)`: this CPU's address of a per-CPU
    /// pointer, which the kernel writes when it inlines per-CPU lookups.
    PerCpuAddress {
        /// Destination.
        dst: Register,
        /// The per-CPU pointer.
        src: Register,
    },
    /// A speculation barrier (`nospec`), written for unprivileged programs.
    NoSpec,
}

impl Translated {
    /// The slots it takes (2 for a 64-bit immediate load).
    pub fn slot_count(&self) -> usize {
        match self {
            Translated::Instruction(instruction) => instruction.slot_count(),
            _ => 1,
        }
    }

    /// Its opcode.
    pub fn opcode(&self) -> u8 {
        match self {
            Translated::Instruction(instruction) => instruction.opcode(),
            Translated::SubprogramCall { .. } => CALL,
            Translated::PerCpuAddress { .. } => MOV64_REG,
            Translated::NoSpec => NOSPEC,
        }
    }

    fn slots(&self) -> (Slot, Option<Slot>) {
        let raw = |code, dst: Register, src, off, imm| Slot {
            code,
            dst: dst.number(),
            src,
            off,
            imm,
        };
        match *self {
            Translated::Instruction(instruction) => instruction.slots(),
            Translated::SubprogramCall { off, subprogram } => {
                (raw(CALL, Register::R0, PSEUDO_CALL, off, subprogram), None)
            }
            Translated::PerCpuAddress { dst, src } => {
                (raw(MOV64_REG, dst, src.number(), ADDR_PERCPU, 0), None)
            }
            Translated::NoSpec => (raw(NOSPEC, Register::R0, 0, 0, 0), None),
        }
    }

    /// The kernel's own form in `slot`, if it is one.
    fn internal(slot: Slot) -> Option<Translated> {
        let register = Register::from_number;
        match (slot.code, slot.src, slot.off) {
            (CALL, PSEUDO_CALL, off) if slot.dst == 0 && off != 0 => {
                Some(Translated::SubprogramCall {
                    off,
                    subprogram: slot.imm,
                })
            }
            (MOV64_REG, src, ADDR_PERCPU) if slot.imm == 0 => Some(Translated::PerCpuAddress {
                dst: register(slot.dst)?,
                src: register(src)?,
            }),
            (NOSPEC, 0, 0) if slot.dst == 0 && slot.imm == 0 => Some(Translated::NoSpec),
            _ => None,
        }
    }
}

/// A program as a kernel translated it, with names for what some of its
/// units refer to (maps, helpers, kfuncs), which the reader of the
/// translation found out.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct TranslatedInstructions {
    units: Vec<Translated>,
    names: BTreeMap<usize, String>,
}

impl TranslatedInstructions {
    /// Decodes a translation in the byte order of this machine (as the
    /// kernel reports it).
    pub fn decode(bytes: &[u8]) -> Result<TranslatedInstructions, DecodeError> {
        TranslatedInstructions::decode_endian(bytes, Endian::NATIVE)
    }

    /// Decodes a translation in `endian` byte order: each unit an
    /// instruction or one of the kernel's own forms; anything else is an
    /// error, as in [`Instructions::decode`](crate::Instructions::decode).
    pub fn decode_endian(
        bytes: &[u8],
        endian: Endian,
    ) -> Result<TranslatedInstructions, DecodeError> {
        let mut units = Vec::with_capacity(bytes.len() / 8);
        let mut at = 0;
        while at < bytes.len() {
            match Instruction::decode(&bytes[at..], endian) {
                Ok((instruction, len)) => {
                    units.push(Translated::Instruction(instruction));
                    at += len;
                }
                Err(error) => {
                    let slot = bytes
                        .get(at..at + 8)
                        .and_then(|b| b.try_into().ok())
                        .map(|b| Slot::from_bytes(b, endian));
                    let Some(unit) = slot.and_then(Translated::internal) else {
                        return Err(DecodeError {
                            offset: at,
                            ..error
                        });
                    };
                    units.push(unit);
                    at += 8;
                }
            }
        }
        Ok(TranslatedInstructions {
            units,
            names: BTreeMap::new(),
        })
    }

    /// The translation's bytes in this machine's byte order: the bytes it
    /// was decoded from.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_endian(Endian::NATIVE)
    }

    /// The translation's bytes in `endian` byte order.
    pub fn encode_endian(&self, endian: Endian) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.slot_count() * 8);
        for unit in &self.units {
            let (first, second) = unit.slots();
            bytes.extend_from_slice(&first.to_bytes(endian));
            if let Some(second) = second {
                bytes.extend_from_slice(&second.to_bytes(endian));
            }
        }
        bytes
    }

    /// The units, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Translated> {
        self.units.iter()
    }

    /// The number of units (a 64-bit immediate load counts once).
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether there is no unit.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The number of 8-byte slots.
    pub fn slot_count(&self) -> usize {
        self.units.iter().map(Translated::slot_count).sum()
    }

    /// Names what the unit at `index` refers to (the map it loads, the
    /// helper or kfunc it calls).
    pub fn set_name(&mut self, index: usize, name: impl Into<String>) {
        if index < self.units.len() {
            self.names.insert(index, name.into());
        }
    }

    /// The name of what the unit at `index` refers to, if known.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.names.get(&index).map(String::as_str)
    }
}

impl std::ops::Index<usize> for TranslatedInstructions {
    type Output = Translated;

    fn index(&self, index: usize) -> &Translated {
        &self.units[index]
    }
}

impl<'a> IntoIterator for &'a TranslatedInstructions {
    type Item = &'a Translated;
    type IntoIter = std::slice::Iter<'a, Translated>;

    fn into_iter(self) -> Self::IntoIter {
        self.units.iter()
    }
}

impl fmt::Display for TranslatedInstructions {
    /// One unit per line, in this crate's text form: a helper call the
    /// kernel resolved as `call 0x5d1c0 <bpf_ringbuf_output>` (its
    /// immediate is an address, not a helper id), a map load by the map's
    /// name, a subprogram call as `call pc+0x28`, a per-CPU address as
    /// `r0 = &(void __percpu *)(r0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, unit) in self.units.iter().enumerate() {
            let name = self.name(index);
            match *unit {
                Translated::Instruction(instruction) => match (instruction.op(), name) {
                    (Op::Call(Call::Helper(imm)), Some(name)) => {
                        write!(f, "call {} <{name}>", Hex(*imm))?
                    }
                    (op, name) => write_op(f, op, name)?,
                },
                Translated::SubprogramCall { off, .. } => {
                    let sign = if off < 0 { '-' } else { '+' };
                    write!(f, "call pc{sign}{:#x}", off.unsigned_abs())?;
                    if let Some(name) = name {
                        write!(f, " <{name}>")?;
                    }
                }
                Translated::PerCpuAddress { dst, src } => {
                    write!(f, "{dst} = &(void __percpu *)({src})")?
                }
                Translated::NoSpec => f.write_str("nospec")?,
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(slots: &[Slot]) -> Vec<u8> {
        slots
            .iter()
            .flat_map(|s| s.to_bytes(Endian::Little))
            .collect()
    }

    #[test]
    fn the_kernels_own_forms_decode_and_encode_back() {
        let slot = |code, dst, src, off, imm| Slot {
            code,
            dst,
            src,
            off,
            imm,
        };
        let code = bytes(&[
            slot(0xb7, 0, 0, 0, 0),       // r0 = 0x0
            slot(CALL, 0, 1, 0x28, 1),    // call pc+0x28, subprogram 1
            slot(MOV64_REG, 0, 0, -1, 0), // r0 = &(void __percpu *)(r0)
            slot(CALL, 0, 0, 0, 0x5d1c0), // a resolved helper
            slot(NOSPEC, 0, 0, 0, 0),
            slot(0x95, 0, 0, 0, 0), // exit
        ]);
        let mut translated = TranslatedInstructions::decode_endian(&code, Endian::Little).unwrap();
        translated.set_name(3, "bpf_ringbuf_output");
        assert_eq!(translated.encode_endian(Endian::Little), code);
        assert_eq!(
            translated.to_string(),
            "r0 = 0x0\ncall pc+0x28\nr0 = &(void __percpu *)(r0)\n\
             call 0x5d1c0 <bpf_ringbuf_output>\nnospec\nexit\n"
        );
        assert_eq!(
            translated[1],
            Translated::SubprogramCall {
                off: 0x28,
                subprogram: 1
            }
        );
        assert_eq!(translated.slot_count(), 6);
        // Anything else is still an error, where it is.
        let bad = bytes(&[slot(0xb7, 0, 0, 0, 0), slot(0xff, 0, 0, 0, 0)]);
        let err = TranslatedInstructions::decode_endian(&bad, Endian::Little).unwrap_err();
        assert_eq!((err.offset, err.opcode), (8, Some(0xff)));
    }
}
