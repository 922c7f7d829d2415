//! Reading an eBPF ELF object into the model.
//!
//! The header is checked by hand first, so that the common mistakes (a file
//! that is not ELF, an object built for the host instead of BPF) get an error
//! that says so; the rest is read with the `object` crate.

use object::elf::{EM_BPF, SHF_EXECINSTR};
use object::read::elf::ElfFile64;
use object::{
    Endianness, Object as _, ObjectSection, ObjectSymbol, RelocationTarget, SectionFlags,
    SymbolKind,
};

use std::collections::HashMap;

use crate::btf::{self, Btf, Kind, SectionInfo};
use crate::locate::ObjectFile;
use crate::model::{DataSection, KernelSymbol, Map, MapDef, Object, Program, StructOpsMap};

/// Why a file is not an eBPF object the macro can read.
pub enum ElfError {
    NotElf,
    NotElf64,
    NotBpf {
        machine: u16,
    },
    Corrupt(String),
    Btf(String),
    /// Maps in a `maps` section (`struct bpf_elf_map`, `struct
    /// bpf_map_def`), which libbpf 1.0 dropped; the maps' names.
    LegacyMaps(Vec<String>),
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
            ElfError::Btf(why) => format!("`{given}` has BTF the macro cannot read: {why}"),
            ElfError::LegacyMaps(names) => format!(
                "`{given}` declares its maps ({}) in a section named `maps`, the legacy \
                 format of iproute2's `struct bpf_elf_map` and of `struct bpf_map_def`, which \
                 libbpf 1.0 and later refuse to open; declare each as a BTF-defined map in \
                 `.maps` instead, e.g. `struct {{ __uint(type, BPF_MAP_TYPE_ARRAY); \
                 __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); }} name \
                 SEC(\".maps\");`, and build with `clang -g` so that it has BTF",
                if names.is_empty() {
                    "none named".to_owned()
                } else {
                    format!("`{}`", names.join("`, `"))
                }
            ),
        }
    }
}

/// Reads the programs and maps of an eBPF object.
pub fn read(file: &ObjectFile) -> Result<Object, ElfError> {
    let data = &file.bytes[..];
    check_header(data)?;
    let elf = ElfFile64::<Endianness>::parse(data).map_err(|e| ElfError::Corrupt(e.to_string()))?;
    legacy_maps(&elf)?;
    let btf = read_btf(&elf)?;
    let mut maps = maps(&elf)?;
    if let Some(btf) = &btf {
        for map in &mut maps {
            map.def = map_def(btf, &map.name).map_err(ElfError::Btf)?;
        }
    }
    let text_maps = elf
        .section_by_name(".text")
        .map(|text| maps_used(&elf, &text, 0..u64::MAX))
        .transpose()?
        .unwrap_or_default();
    Ok(Object {
        name: module_name(&file.path),
        programs: programs(&elf)?,
        maps,
        text_maps,
        sections: btf.as_ref().map(data_sections).unwrap_or_default(),
        struct_ops: btf.as_ref().map(struct_ops_maps).unwrap_or_default(),
        kernel_symbols: btf
            .as_ref()
            .map(|btf| kernel_symbols(&elf, btf))
            .unwrap_or_default(),
        btf,
    })
}

/// Refuses a `maps` section, naming its maps: libbpf would not open it.
fn legacy_maps(elf: &ElfFile64<'_, Endianness>) -> Result<(), ElfError> {
    let Some(section) = elf.section_by_name("maps") else {
        return Ok(());
    };
    let mut names: Vec<(u64, String)> = elf
        .symbols()
        .filter(|s| s.section_index() == Some(section.index()) && s.kind() != SymbolKind::Section)
        .filter_map(|s| Some((s.address(), s.name().ok()?.to_owned())))
        .filter(|(_, name)| !name.is_empty())
        .collect();
    names.sort();
    Err(ElfError::LegacyMaps(
        names.into_iter().map(|(_, n)| n).collect(),
    ))
}

/// Reads `.BTF` and fills in the DATASEC sizes and offsets libbpf would.
fn read_btf(elf: &ElfFile64<'_, Endianness>) -> Result<Option<Btf>, ElfError> {
    let Some(section) = elf.section_by_name(".BTF") else {
        return Ok(None);
    };
    let data = section.data().map_err(corrupt)?;
    let little = elf.endian() == Endianness::Little;
    let mut btf = btf::parse(data, little).map_err(ElfError::Btf)?;
    let mut infos = HashMap::new();
    for section in elf.sections() {
        let name = section.name().map_err(corrupt)?;
        if btf.datasec(name).is_none() {
            continue;
        }
        let symbols = elf
            .symbols()
            .filter(|s| {
                s.section_index() == Some(section.index()) && s.kind() != SymbolKind::Section
            })
            .filter_map(|s| Some((s.name().ok()?.to_owned(), s.address())))
            .collect();
        infos.insert(
            name.to_owned(),
            SectionInfo {
                size: section.size(),
                symbols,
            },
        );
    }
    btf::fix_datasecs(&mut btf, &infos).map_err(ElfError::Btf)?;
    btf::fix_kconfig(&mut btf).map_err(ElfError::Btf)?;
    Ok(Some(btf))
}

/// A map's BTF definition: the struct `__uint`/`__type` fields describe.
fn map_def(btf: &Btf, name: &str) -> Result<Option<MapDef>, String> {
    let Some((_, maps)) = btf.datasec(".maps") else {
        return Ok(None);
    };
    let var = maps
        .vars
        .iter()
        .map(|v| v.var)
        .find(|&v| btf.types[v as usize].name == name);
    let Some(var) = var else { return Ok(None) };
    let Kind::Var { ty, .. } = btf.get(var)?.kind else {
        return Err(format!("map `{name}` is not a variable in BTF"));
    };
    let Kind::Struct(def) = &btf.get(btf.skip_aliases(ty)?)?.kind else {
        return Err(format!("map `{name}` is not defined by a struct"));
    };
    let mut out = MapDef::default();
    for member in &def.members {
        match member.name.as_str() {
            "type" => out.kind = Some(uint_value(btf, member.ty)?),
            "max_entries" => out.max_entries = Some(uint_value(btf, member.ty)?),
            "key_size" => out.key_size = Some(uint_value(btf, member.ty)?),
            "value_size" => out.value_size = Some(uint_value(btf, member.ty)?),
            "key" => out.key = Some(pointee(btf, member.ty)?),
            "value" => out.value = Some(pointee(btf, member.ty)?),
            "values" => out.has_inner = true,
            _ => {}
        }
    }
    Ok(Some(out))
}

/// `__uint(name, N)` is `int (*name)[N]`.
fn uint_value(btf: &Btf, ty: btf::TypeId) -> Result<u32, String> {
    match btf.get(pointee(btf, ty)?)?.kind {
        Kind::Array { len, .. } => Ok(len),
        _ => Err("a map attribute is not `int (*name)[N]`".into()),
    }
}

/// `__type(name, T)` is `T *name`.
fn pointee(btf: &Btf, ty: btf::TypeId) -> Result<btf::TypeId, String> {
    match btf.get(btf.skip_qualifiers(ty)?)?.kind {
        Kind::Ptr(target) => Ok(target),
        _ => Err("a map attribute is not a pointer".into()),
    }
}

/// Sections whose global variables become typed fields.
fn data_sections(btf: &Btf) -> Vec<DataSection> {
    btf.types
        .iter()
        .enumerate()
        .filter_map(|(id, t)| {
            let Kind::Datasec(sec) = &t.kind else {
                return None;
            };
            let holds_globals = sec.vars.iter().any(|v| {
                matches!(
                    btf.types.get(v.var as usize).map(|t| &t.kind),
                    Some(Kind::Var { global: true, .. })
                )
            });
            (holds_globals && is_global_section(&t.name)).then(|| DataSection {
                name: t.name.clone(),
                datasec: id as btf::TypeId,
            })
        })
        .collect()
}

/// The sections libbpf reads struct_ops maps from.
const STRUCT_OPS_SECTIONS: [&str; 4] = [
    ".struct_ops",
    ".struct_ops.link",
    "?.struct_ops",
    "?.struct_ops.link",
];

/// The struct_ops maps: the variables of the struct_ops sections, in BTF
/// order (libbpf's).
fn struct_ops_maps(btf: &Btf) -> Vec<StructOpsMap> {
    let mut maps = Vec::new();
    for section in STRUCT_OPS_SECTIONS {
        let Some((_, sec)) = btf.datasec(section) else {
            continue;
        };
        for v in &sec.vars {
            if let Some(Kind::Var { ty, .. }) = btf.types.get(v.var as usize).map(|t| &t.kind) {
                maps.push(StructOpsMap {
                    name: btf.types[v.var as usize].name.clone(),
                    section: section.to_owned(),
                    ty: *ty,
                });
            }
        }
    }
    maps
}

/// The kfuncs and kernel variables `.ksyms` lists, weak when their ELF
/// symbol is.
fn kernel_symbols(elf: &ElfFile64<'_, Endianness>, btf: &Btf) -> Vec<KernelSymbol> {
    let Some((_, ksyms)) = btf.datasec(".ksyms") else {
        return Vec::new();
    };
    let weak: Vec<&str> = elf
        .symbols()
        .filter(|s| s.is_undefined() && s.is_weak())
        .filter_map(|s| s.name().ok())
        .collect();
    ksyms
        .vars
        .iter()
        .filter_map(|v| btf.types.get(v.var as usize))
        .map(|t| KernelSymbol {
            name: t.name.clone(),
            function: matches!(t.kind, Kind::Func),
            weak: weak.contains(&t.name.as_str()),
        })
        .collect()
}

fn is_global_section(name: &str) -> bool {
    matches!(name, ".bss" | ".data" | ".rodata" | ".kconfig")
        || name.starts_with(".data.")
        || name.starts_with(".rodata.")
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
        let Some(index) = symbol.section_index() else {
            continue;
        };
        let section = elf.section_by_index(index).map_err(corrupt)?;
        let section_name = section.name().map_err(corrupt)?;
        if section_name == ".text" || !is_executable(section.flags()) {
            continue;
        }
        let range = symbol.address()..symbol.address() + symbol.size();
        programs.push((
            index.0,
            symbol.address(),
            Program {
                name: symbol.name().map_err(corrupt)?.to_owned(),
                section: section_name.to_owned(),
                maps: maps_used(elf, &section, range)?,
            },
        ));
    }
    programs.sort_by_key(|&(section, address, _)| (section, address));
    Ok(programs.into_iter().map(|(_, _, p)| p).collect())
}

/// The maps that instructions at `range` of `section` refer to.
fn maps_used(
    elf: &ElfFile64<'_, Endianness>,
    section: &object::read::elf::ElfSection64<'_, '_, Endianness>,
    range: std::ops::Range<u64>,
) -> Result<Vec<String>, ElfError> {
    let Some(maps) = elf.section_by_name(".maps") else {
        return Ok(Vec::new());
    };
    let mut used = Vec::new();
    for (offset, reloc) in section.relocations() {
        if !range.contains(&offset) {
            continue;
        }
        let RelocationTarget::Symbol(index) = reloc.target() else {
            continue;
        };
        let symbol = elf.symbol_by_index(index).map_err(corrupt)?;
        if symbol.section_index() == Some(maps.index()) {
            let name = symbol.name().map_err(corrupt)?.to_owned();
            if !used.contains(&name) {
                used.push(name);
            }
        }
    }
    Ok(used)
}

/// The variables of the `.maps` section, in the order they are laid out.
fn maps(elf: &ElfFile64<'_, Endianness>) -> Result<Vec<Map>, ElfError> {
    let Some(section) = elf.section_by_name(".maps") else {
        return Ok(Vec::new());
    };
    let mut maps: Vec<(u64, Map)> = Vec::new();
    let section_ref = &section;
    for symbol in elf.symbols() {
        if symbol.section_index() != Some(section.index()) || symbol.kind() == SymbolKind::Section {
            continue;
        }
        let name = symbol.name().map_err(corrupt)?;
        if name.is_empty() {
            continue;
        }
        let range = symbol.address()..symbol.address() + symbol.size();
        let inner = maps_used(elf, section_ref, range)?;
        maps.push((
            symbol.address(),
            Map {
                name: name.to_owned(),
                def: None,
                inner,
            },
        ));
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
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
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
