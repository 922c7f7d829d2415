//! `disasm OBJ [PROGRAM]`: each function's instructions, decoded by the asm
//! crate and printed in its text form, with the name each relocation gives
//! (the map a load refers to, the function a call goes to).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use ebpf_skeleton_asm::{Endian, Instructions};
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionKind, SymbolKind};

use crate::Result;

/// One function of an executable section.
struct Function<'a> {
    name: &'a str,
    section: &'a str,
    bytes: &'a [u8],
    /// Relocations by byte offset in the function: the name they give.
    names: BTreeMap<u64, String>,
}

pub fn print(path: &Path, only: Option<&str>, out: &mut impl Write) -> Result {
    let data = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let file = object::File::parse(&*data)
        .map_err(|e| format!("{}: not an ELF object: {e}", path.display()))?;
    let endian = if file.is_little_endian() {
        Endian::Little
    } else {
        Endian::Big
    };
    let functions = functions(&file)?;
    if let Some(name) = only {
        if !functions.iter().any(|f| f.name == name) {
            let names: Vec<&str> = functions.iter().map(|f| f.name).collect();
            return Err(format!(
                "{} has no program named `{name}`; it has {}",
                path.display(),
                names.join(", ")
            )
            .into());
        }
    }
    for f in functions
        .iter()
        .filter(|f| only.is_none_or(|name| f.name == name))
    {
        let program = Instructions::decode_endian(f.bytes, endian)
            .map_err(|e| format!("decoding `{}`: {e}", f.name))?;
        let kind = if f.section == ".text" {
            "subprogram"
        } else {
            "program"
        };
        writeln!(out, "{} ({kind}, section {}):", f.name, f.section)?;
        let mut slot = 0u64;
        for insn in program.iter() {
            let note = f
                .names
                .get(&(slot * 8))
                .map(|name| format!("  // {name}"))
                .unwrap_or_default();
            writeln!(out, "  {slot:>5}: {insn}{note}")?;
            slot += insn.slot_count() as u64;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Every function symbol of the object's executable sections, in order.
fn functions<'a>(file: &'a object::File<'a>) -> Result<Vec<Function<'a>>> {
    let mut out = Vec::new();
    for section in file.sections().filter(|s| s.kind() == SectionKind::Text) {
        let section_name = section.name()?;
        let data = section.data()?;
        let relocations: Vec<(u64, String)> = section
            .relocations()
            .map(|(offset, reloc)| (offset, target_name(file, reloc.target())))
            .collect();
        let mut symbols: Vec<_> = file
            .symbols()
            .filter(|s| s.section_index() == Some(section.index()) && s.kind() == SymbolKind::Text)
            .collect();
        symbols.sort_by_key(|s| s.address());
        for sym in symbols {
            let (start, size) = (sym.address(), sym.size());
            let end = usize::try_from(start + size)
                .ok()
                .filter(|&e| e <= data.len());
            let Some(end) = end else {
                return Err(format!("symbol `{}` lies outside its section", sym.name()?).into());
            };
            let names = relocations
                .iter()
                .filter(|(off, _)| (start..start + size).contains(off))
                .map(|(off, name)| (off - start, name.clone()))
                .collect();
            out.push(Function {
                name: sym.name()?,
                section: section_name,
                bytes: &data[start as usize..end],
                names,
            });
        }
    }
    Ok(out)
}

/// What a relocation names: its symbol, or for a section symbol (a data
/// section's contents) the section.
fn target_name(file: &object::File<'_>, target: RelocationTarget) -> String {
    let RelocationTarget::Symbol(index) = target else {
        return "(relocation)".to_owned();
    };
    let Ok(sym) = file.symbol_by_index(index) else {
        return "(unknown symbol)".to_owned();
    };
    match sym.name() {
        Ok(name) if !name.is_empty() => name.to_owned(),
        _ => sym
            .section_index()
            .and_then(|i| file.section_by_index(i).ok())
            .and_then(|s| s.name().ok().map(str::to_owned))
            .unwrap_or_else(|| "(unnamed)".to_owned()),
    }
}
