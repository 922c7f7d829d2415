//! Reading an eBPF ELF object into the model.
//!
//! The header is checked by hand first, so that the common mistakes (a file
//! that is not ELF, an object built for the host instead of BPF) get an error
//! that says so; the rest is read with the `object` crate.

use object::elf::{EM_BPF, SHF_EXECINSTR};
use object::read::elf::ElfFile64;
use object::{Endianness, Object as _, ObjectSection, ObjectSymbol, SectionFlags, SymbolKind};

use crate::locate::ObjectFile;
use crate::model::{Map, Object, Program};

/// Why a file is not an eBPF object the macro can read.
pub enum ElfError {
    NotElf,
    NotElf64,
    NotBpf { machine: u16 },
    Corrupt(String),
}

impl ElfError {
    /// The compile error's text, naming the path as the user wrote it.
    pub fn message(&self, given: &str) -> String {
        match self {
            ElfError::NotElf => format!(
                "`{given}` is not an ELF file; expected an eBPF object built with `clang --target=bpf`"
            ),
            ElfError::NotElf64 => format!(
                "`{given}` is a 32-bit ELF file; eBPF objects are 64-bit ELF, built with `clang --target=bpf`"
            ),
            ElfError::NotBpf { machine } => format!(
                "`{given}` is an ELF object for {} (e_machine {machine}), not for eBPF; build it with `clang --target=bpf`",
                machine_name(*machine)
            ),
            ElfError::Corrupt(why) => format!("`{given}` is not a valid ELF object: {why}"),
        }
    }
}

/// Reads the programs and maps of an eBPF object.
pub fn read(file: &ObjectFile) -> Result<Object, ElfError> {
    let data = &file.bytes[..];
    check_header(data)?;
    let elf = ElfFile64::<Endianness>::parse(data).map_err(|e| ElfError::Corrupt(e.to_string()))?;
    Ok(Object {
        name: module_name(&file.path),
        programs: programs(&elf)?,
        maps: maps(&elf)?,
    })
}

fn check_header(data: &[u8]) -> Result<(), ElfError> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if data.len() < 20 {
        return Err(ElfError::Corrupt("the ELF header is cut short".to_owned()));
    }
    if data[4] != 2 {
        return Err(ElfError::NotElf64);
    }
    let machine = match data[5] {
        1 => u16::from_le_bytes([data[18], data[19]]),
        _ => u16::from_be_bytes([data[18], data[19]]),
    };
    if machine != EM_BPF {
        return Err(ElfError::NotBpf { machine });
    }
    Ok(())
}

/// Global functions in executable sections other than `.text` (which holds
/// subprograms), as libbpf finds them.
fn programs(elf: &ElfFile64<'_, Endianness>) -> Result<Vec<Program>, ElfError> {
    let mut programs = Vec::new();
    for symbol in elf.symbols() {
        if symbol.kind() != SymbolKind::Text || !symbol.is_global() {
            continue;
        }
        let Some(index) = symbol.section_index() else { continue };
        let section = elf.section_by_index(index).map_err(corrupt)?;
        let section_name = section.name().map_err(corrupt)?;
        if section_name == ".text" || !is_executable(section.flags()) {
            continue;
        }
        programs.push((index.0, symbol.address(), Program {
            name: symbol.name().map_err(corrupt)?.to_owned(),
            section: section_name.to_owned(),
        }));
    }
    programs.sort_by_key(|&(section, address, _)| (section, address));
    Ok(programs.into_iter().map(|(_, _, p)| p).collect())
}

/// The variables of the `.maps` section, in the order they are laid out.
fn maps(elf: &ElfFile64<'_, Endianness>) -> Result<Vec<Map>, ElfError> {
    let Some(section) = elf.section_by_name(".maps") else {
        return Ok(Vec::new());
    };
    let mut maps: Vec<(u64, Map)> = Vec::new();
    for symbol in elf.symbols() {
        if symbol.section_index() != Some(section.index()) || symbol.kind() == SymbolKind::Section {
            continue;
        }
        let name = symbol.name().map_err(corrupt)?;
        if name.is_empty() {
            continue;
        }
        maps.push((symbol.address(), Map { name: name.to_owned() }));
    }
    maps.sort_by_key(|&(address, _)| address);
    Ok(maps.into_iter().map(|(_, m)| m).collect())
}

fn is_executable(flags: SectionFlags) -> bool {
    matches!(flags, SectionFlags::Elf { sh_flags } if sh_flags & u64::from(SHF_EXECINSTR) != 0)
}

fn corrupt(e: object::Error) -> ElfError {
    ElfError::Corrupt(e.to_string())
}

/// The file name up to its first dot: `bpf/exec-snoop.bpf.o` gives
/// `exec-snoop` (made a Rust identifier later).
fn module_name(path: &std::path::Path) -> String {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    file.split('.').next().unwrap_or_default().to_owned()
}

fn machine_name(machine: u16) -> &'static str {
    match machine {
        3 => "x86",
        40 => "ARM",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        21 => "PowerPC64",
        22 => "s390",
        _ => "another architecture",
    }
}
