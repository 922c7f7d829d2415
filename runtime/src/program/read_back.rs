//! A loaded program's instructions, read back: as they were loaded (what
//! the kernel's tag hashes), decoded into [`Instructions`], and as the
//! kernel translated them (`bpf_prog_info.xlated_prog_insns`, what
//! `bpftool prog dump xlated` prints), into [`TranslatedInstructions`];
//! maps, helpers and kfuncs named.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use super::{Program, Source};
use crate::asm::{
    Call, Helper, Instructions, Op, Pseudo, TagHash, Translated, TranslatedInstructions,
};
use crate::error::{Error, Result};
use crate::libbpf::{map_info, prog_info};
use crate::os::errno::check;
use crate::os::{c_name, kallsyms};

impl Program {
    /// The instructions as they were loaded: for a program of an object,
    /// libbpf's final ones (relocated: subprograms appended, CO-RE applied,
    /// map descriptors filled in); for a program loaded from instructions,
    /// those given. Map loads name their maps. These are what the kernel's
    /// tag hashes:
    ///
    /// ```no_run
    /// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
    /// let hash = ebpf_skeleton::tag_hash()?;
    /// assert_eq!(program.instructions()?.tag(hash).0, program.info()?.tag);
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    ///
    /// A program opened by descriptor has none here: the kernel keeps only
    /// their translation ([`Program::translated_instructions`]).
    pub fn instructions(&self) -> Result<Instructions> {
        match &self.source {
            Source::Object { object, ptr } => {
                self.fd()?;
                // SAFETY: the program lives as long as `object`; libbpf keeps
                // its final instructions, `insn_cnt` of them, after load.
                let bytes = unsafe {
                    let insns = sys::bpf_program__insns(ptr.as_ptr());
                    let count = sys::bpf_program__insn_cnt(ptr.as_ptr()) as usize;
                    std::slice::from_raw_parts(insns.cast::<u8>(), count * 8)
                };
                let mut instructions = self.decode(bytes, "loaded")?;
                let by_fd: HashMap<i32, String> = object
                    .maps()
                    .map(|(name, map)| {
                        // SAFETY: the map belongs to the live object.
                        (unsafe { sys::bpf_map__fd(map.as_ptr()) }, name.to_owned())
                    })
                    .collect();
                name_maps(&mut instructions, |fd| by_fd.get(&fd).cloned());
                Ok(instructions)
            }
            Source::Fd {
                instructions: Some(instructions),
                ..
            } => Ok(Instructions::clone(instructions)),
            Source::Fd { .. } => Err(Error::sys(
                format!("reading the loaded instructions of program `{}`", self.name),
                std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "a program opened by descriptor has only its translated instructions",
                ),
            )),
        }
    }

    /// The instructions as the kernel holds them after verifying the
    /// program (`bpftool prog dump xlated`): context accesses rewritten,
    /// helpers inlined or called at the address the kernel resolved (an
    /// immediate that is no helper id; 0 when the kernel hides addresses),
    /// subprogram calls numbered, and the few forms only the kernel writes.
    /// Map loads carry the map's id and are named by the map's name;
    /// helper and kfunc calls are named from `/proc/kallsyms` when it shows
    /// addresses.
    pub fn translated_instructions(&self) -> Result<TranslatedInstructions> {
        let what = || {
            format!(
                "reading the translated instructions of program `{}`",
                self.name
            )
        };
        let fd = self.fd()?;
        let len = prog_info(fd)
            .map_err(|source| Error::sys(what(), source))?
            .xlated_prog_len;
        let mut words = vec![0u64; (len as usize).div_ceil(8)];
        let mut info = sys::bpf_prog_info {
            xlated_prog_len: len,
            xlated_prog_insns: words.as_mut_ptr() as u64,
            ..Default::default()
        };
        let mut info_len = size_of::<sys::bpf_prog_info>() as u32;
        // SAFETY: `info` is writable for `info_len` bytes and the buffer for
        // `xlated_prog_len` bytes.
        check(unsafe { sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut info_len) })
            .map_err(|source| Error::sys(what(), source))?;
        let written = (info.xlated_prog_len.min(len) as usize) / 8;
        let bytes: Vec<u8> = words[..written]
            .iter()
            .flat_map(|word| word.to_ne_bytes())
            .collect();
        let mut translated =
            TranslatedInstructions::decode(&bytes).map_err(|source| Error::Decode {
                program: self.name.clone(),
                what: "translated",
                source,
            })?;
        name_translation(&mut translated);
        Ok(translated)
    }

    fn decode(&self, bytes: &[u8], what: &'static str) -> Result<Instructions> {
        Instructions::decode(bytes).map_err(|source| Error::Decode {
            program: self.name.clone(),
            what,
            source,
        })
    }
}

/// Names every map load of `instructions` by its immediate (a descriptor,
/// or in a translation a map id), as `name` says.
fn name_maps(instructions: &mut Instructions, name: impl Fn(i32) -> Option<String>) {
    let loads: Vec<(usize, i32)> = instructions
        .iter()
        .enumerate()
        .filter_map(|(index, instruction)| match *instruction.op() {
            Op::LoadPseudo {
                pseudo: Pseudo::MapFd | Pseudo::MapValue,
                imm,
                ..
            } => Some((index, imm)),
            _ => None,
        })
        .collect();
    for (index, imm) in loads {
        if let Some(map) = name(imm) {
            instructions.set_reference(index, map);
        }
    }
}

/// Names the maps (by id) and the called helpers and kfuncs (by address)
/// of a translation.
fn name_translation(translated: &mut TranslatedInstructions) {
    let mut maps = Vec::new();
    let mut calls = Vec::new();
    for (index, unit) in translated.iter().enumerate() {
        let Translated::Instruction(instruction) = unit else {
            continue;
        };
        match *instruction.op() {
            Op::LoadPseudo {
                pseudo: Pseudo::MapFd | Pseudo::MapValue,
                imm,
                ..
            } => maps.push((index, imm)),
            Op::Call(Call::Helper(imm) | Call::Kfunc { btf_id: imm, .. }) => {
                calls.push((index, imm))
            }
            _ => {}
        }
    }
    for (index, id) in maps {
        if let Some(name) = map_name_by_id(id) {
            translated.set_name(index, name);
        }
    }
    let offsets: Vec<i32> = calls.iter().map(|&(_, imm)| imm).collect();
    let names = kallsyms::call_targets(&offsets);
    for (index, imm) in calls {
        // A call the kernel did not resolve to an address keeps its helper
        // id (`bpf_tail_call`).
        let name = names
            .get(&imm)
            .cloned()
            .or_else(|| Helper::from_id(imm).map(|h| h.to_string()));
        if let Some(name) = name {
            translated.set_name(index, name);
        }
    }
}

/// The kernel's name of the map with id `id`, when this process may open it.
fn map_name_by_id(id: i32) -> Option<String> {
    // SAFETY: a plain system call; the descriptor is owned right away.
    let fd = check(unsafe { sys::bpf_map_get_fd_by_id(id as u32) }).ok()?;
    // SAFETY: the kernel just returned this descriptor to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let fd: BorrowedFd<'_> = fd.as_fd();
    Some(c_name(&map_info(fd).ok()?.name))
}

/// The hash the running kernel computes program tags with (SHA-256 since
/// Linux 6.18, SHA-1 before), from its release.
pub fn tag_hash() -> Result<TagHash> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|source| Error::sys("reading the kernel's release", source))?;
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse::<u32>().ok());
    match (numbers.next(), numbers.next()) {
        (Some(major), Some(minor)) => Ok(TagHash::for_kernel(major, minor)),
        _ => Err(Error::sys(
            format!("reading the kernel's release `{}`", release.trim()),
            std::io::Error::new(std::io::ErrorKind::InvalidData, "no version number"),
        )),
    }
}
