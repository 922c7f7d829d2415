//! [`Instructions`]: a program, with its labels and the names its
//! instructions refer to.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::builder::{without_id, ReferenceKind};
use crate::decode::{DecodeError, DecodeErrorKind};
use crate::display::write_op;
use crate::instruction::Instruction;
use crate::jumps::bad_jumps;
use crate::op::Op;
use crate::parse::{parse, ParseErrors};
use crate::slot::{Endian, Slot};
use crate::tag::{tag, Tag, TagHash};

/// A program: instructions in order, labels on some of them, and the names
/// some refer to (as cilium/ebpf's `asm.Instructions` with symbols and
/// references).
///
/// - From bytes: [`decode`](Self::decode); back: [`encode`](Self::encode).
/// - From text: [`parse`](Self::parse) (or `str::parse`, or the `asm!`
///   macro at compile time); back: `Display`, which prints what
///   `llvm-objdump -d --no-show-raw-insn` prints for the same bytes, one
///   instruction per line, with labels (`name:`) on lines of their own and
///   references by name (`goto out`, `r1 = map(counts) ll`).
/// - From Rust: a [`Builder`](crate::Builder).
///
/// A reference to a label is resolved when the program is built: the
/// instruction holds the offset, the name is kept for display. A reference
/// to a map or kernel symbol is left to the loader, which fills in the fd or
/// BTF id ([`resolve_maps`](Self::resolve_maps)).
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
pub struct Instructions {
    instructions: Vec<Instruction>,
    /// Labels by the index of the instruction they mark, in index order.
    labels: Vec<(usize, String)>,
    /// The name each referring instruction (by index) refers to.
    references: BTreeMap<usize, String>,
}

impl Instructions {
    /// An empty program.
    pub fn new() -> Instructions {
        Instructions::default()
    }

    pub(crate) fn from_parts(
        instructions: Vec<Instruction>,
        mut labels: Vec<(usize, String)>,
        references: BTreeMap<usize, String>,
    ) -> Instructions {
        // Stable: labels of one instruction keep their order.
        labels.sort_by_key(|(index, _)| *index);
        Instructions {
            instructions,
            labels,
            references,
        }
    }

    /// Decodes a program in the byte order of the machine this runs on (as
    /// the kernel takes and reports programs).
    pub fn decode(bytes: &[u8]) -> Result<Instructions, DecodeError> {
        Instructions::decode_endian(bytes, Endian::NATIVE)
    }

    /// Decodes a program in `endian` byte order (an object file's). Every
    /// instruction must be one the kernel accepts; where jumps land is left
    /// to [`check_jumps`](Self::check_jumps), as a section may hold a
    /// fragment of a program.
    pub fn decode_endian(bytes: &[u8], endian: Endian) -> Result<Instructions, DecodeError> {
        let mut instructions = Vec::with_capacity(bytes.len() / 8);
        let mut at = 0;
        while at < bytes.len() {
            let (instruction, len) =
                Instruction::decode(&bytes[at..], endian).map_err(|error| DecodeError {
                    offset: at,
                    ..error
                })?;
            instructions.push(instruction);
            at += len;
        }
        Ok(Instructions {
            instructions,
            ..Instructions::default()
        })
    }

    /// Checks that every jump lands on an instruction of the program, as
    /// the kernel requires (calls and subprogram addresses are not checked:
    /// they may point into code linked later). The error names the first
    /// jump that does not.
    pub fn check_jumps(&self) -> Result<(), DecodeError> {
        let ops: Vec<Op> = self.instructions.iter().map(|i| *i.op()).collect();
        match bad_jumps(&ops).first() {
            None => Ok(()),
            Some(&(index, slot, bad)) => Err(DecodeError {
                offset: slot * 8,
                opcode: Some(self.instructions[index].opcode()),
                kind: DecodeErrorKind::BadJump(bad),
            }),
        }
    }

    /// The program's bytes in the byte order of the machine this runs on.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_endian(Endian::NATIVE)
    }

    /// The program's bytes in `endian` byte order.
    pub fn encode_endian(&self, endian: Endian) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.slot_count() * 8);
        for instruction in &self.instructions {
            instruction.encode_into(endian, &mut bytes);
        }
        bytes
    }

    /// The program's slots, as `struct bpf_insn`s.
    pub fn slots(&self) -> Vec<Slot> {
        let mut slots = Vec::with_capacity(self.slot_count());
        for instruction in &self.instructions {
            let (first, second) = instruction.slots();
            slots.push(first);
            slots.extend(second);
        }
        slots
    }

    /// Assembles the text form (see the crate documentation for the syntax).
    pub fn parse(text: &str) -> Result<Instructions, ParseErrors> {
        parse(text)
    }

    /// The tag a kernel that hashes with `hash` computes for the program
    /// (`bpf_prog_info.tag`), for the instructions as loaded, on a machine of
    /// this byte order. [`TagHash::for_kernel`] tells which hash a kernel
    /// version uses.
    pub fn tag(&self, hash: TagHash) -> Tag {
        self.tag_endian(hash, Endian::NATIVE)
    }

    /// The tag a kernel of byte order `endian` that hashes with `hash`
    /// computes.
    pub fn tag_endian(&self, hash: TagHash, endian: Endian) -> Tag {
        tag(&self.slots(), hash, endian)
    }

    /// The number of instructions (a 64-bit immediate load counts once).
    pub fn len(&self) -> usize {
        self.instructions.len()
    }

    /// Whether the program has no instruction.
    pub fn is_empty(&self) -> bool {
        self.instructions.is_empty()
    }

    /// The number of 8-byte slots, which jump offsets count.
    pub fn slot_count(&self) -> usize {
        self.instructions.iter().map(Instruction::slot_count).sum()
    }

    /// The instructions.
    pub fn as_slice(&self) -> &[Instruction] {
        &self.instructions
    }

    /// The instructions, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Instruction> {
        self.instructions.iter()
    }

    /// The instruction at `index`.
    pub fn get(&self, index: usize) -> Option<&Instruction> {
        self.instructions.get(index)
    }

    /// The labels, with the index of the instruction each marks, in order.
    pub fn labels(&self) -> impl Iterator<Item = (usize, &str)> {
        self.labels
            .iter()
            .map(|(index, name)| (*index, name.as_str()))
    }

    /// The index of the instruction with this label.
    pub fn label(&self, name: &str) -> Option<usize> {
        self.labels
            .iter()
            .find(|(_, label)| label == name)
            .map(|(index, _)| *index)
    }

    /// The name the instruction at `index` refers to, if any.
    pub fn reference(&self, index: usize) -> Option<&str> {
        self.references.get(&index).map(String::as_str)
    }

    /// Names what the instruction at `index` refers to (a label, map or
    /// kernel symbol), leaving its fields as they are: for instructions read
    /// back from an object or a kernel, whose targets are known by other
    /// means (relocations, map ids). `false`, and nothing changed, when
    /// there is no such instruction or it refers to nothing a name could
    /// stand for.
    pub fn set_reference(&mut self, index: usize, name: impl Into<String>) -> bool {
        let refers = self
            .instructions
            .get(index)
            .is_some_and(|i| ReferenceKind::of(i.op()).is_some());
        if refers {
            self.references.insert(index, name.into());
        }
        refers
    }

    /// Every reference: the instruction's index, what the name refers to,
    /// and the name.
    pub fn references(&self) -> impl Iterator<Item = (usize, ReferenceKind, &str)> {
        self.references.iter().filter_map(|(&index, name)| {
            let kind = ReferenceKind::of(self.instructions[index].op())?;
            Some((index, kind, name.as_str()))
        })
    }

    /// Fills in the fd of every map referred to by name; `fd` gives the
    /// map's fd (or, for a load by index, its index). A resolved instruction
    /// no longer refers to the map by name. Returns the names `fd` did not
    /// know, and leaves those references as they were.
    pub fn resolve_maps(
        &mut self,
        mut fd: impl FnMut(&str) -> Option<i32>,
    ) -> Result<(), UnresolvedMaps> {
        let mut missing = Vec::new();
        let maps: Vec<(usize, String)> = self
            .references()
            .filter(|(_, kind, _)| *kind == ReferenceKind::Map)
            .map(|(index, _, name)| (index, name.to_owned()))
            .collect();
        for (index, name) in maps {
            let Some(value) = fd(&name) else {
                if !missing.contains(&name) {
                    missing.push(name);
                }
                continue;
            };
            let Op::LoadPseudo {
                dst,
                pseudo,
                next_imm,
                ..
            } = without_id(*self.instructions[index].op())
            else {
                continue;
            };
            let op = Op::LoadPseudo {
                dst,
                pseudo,
                imm: value,
                next_imm,
            };
            // A map load with any immediate passes the checks it passed.
            if let Ok(instruction) = Instruction::new(op) {
                self.instructions[index] = instruction;
                self.references.remove(&index);
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(UnresolvedMaps(missing))
        }
    }
}

/// The maps [`Instructions::resolve_maps`] could not find, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnresolvedMaps(pub Vec<String>);

impl fmt::Display for UnresolvedMaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no map named ")?;
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{name}`")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnresolvedMaps {}

impl fmt::Display for Instructions {
    /// One instruction per line, each preceded by its labels (`name:`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut labels = self.labels.iter().peekable();
        for (index, instruction) in self.instructions.iter().enumerate() {
            while let Some((_, name)) = labels.next_if(|(at, _)| *at == index) {
                writeln!(f, "{name}:")?;
            }
            write_op(f, instruction.op(), self.reference(index))?;
            f.write_str("\n")?;
        }
        Ok(())
    }
}

impl FromStr for Instructions {
    type Err = ParseErrors;

    fn from_str(text: &str) -> Result<Instructions, ParseErrors> {
        parse(text)
    }
}

impl From<Vec<Instruction>> for Instructions {
    fn from(instructions: Vec<Instruction>) -> Instructions {
        Instructions {
            instructions,
            ..Instructions::default()
        }
    }
}

impl FromIterator<Instruction> for Instructions {
    fn from_iter<I: IntoIterator<Item = Instruction>>(iter: I) -> Instructions {
        Instructions::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Instructions {
    type Item = &'a Instruction;
    type IntoIter = std::slice::Iter<'a, Instruction>;

    fn into_iter(self) -> Self::IntoIter {
        self.instructions.iter()
    }
}

impl std::ops::Index<usize> for Instructions {
    type Output = Instruction;

    fn index(&self, index: usize) -> &Instruction {
        &self.instructions[index]
    }
}
