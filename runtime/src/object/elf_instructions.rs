//! A program's instructions as its object file holds them, before libbpf
//! relocates them, with each relocation point named by what it refers to
//! (as cilium/ebpf's `Instructions` carry references): a load of a map
//! becomes a map load by name, a load of a global variable a load of its
//! data section's value at the variable's offset, a call or address of a
//! function names the function, a use of an extern the kernel symbol. libbpf
//! does not say where relocations are, so the ELF is read here.

use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionKind, SymbolKind};

use crate::asm::{Call, Endian, Instruction, Instructions, Op, Pseudo};

/// The instructions of the function `program` in the section `section` of
/// the object file `elf`, references named; or what is wrong with the
/// file.
pub(super) fn program_instructions(
    elf: &[u8],
    section: &str,
    program: &str,
) -> Result<Instructions, String> {
    let file = object::File::parse(elf).map_err(|e| format!("reading the object file: {e}"))?;
    let endian = if file.is_little_endian() {
        Endian::Little
    } else {
        Endian::Big
    };
    // libbpf names a program's section without the `?` that turns its
    // autoload off (`SEC("?tp_btf/...")`), and an object may have both.
    let optional = format!("?{section}");
    let in_section = |index| {
        file.section_by_index(index)
            .and_then(|s| s.name().map(|name| name == section || name == optional))
            .unwrap_or(false)
    };
    let symbol = file
        .symbols()
        .find(|s| {
            s.kind() == SymbolKind::Text
                && s.name() == Ok(program)
                && s.section_index().is_some_and(in_section)
        })
        .ok_or_else(|| format!("section `{section}` has no function `{program}`"))?;
    let text = symbol
        .section_index()
        .and_then(|index| file.section_by_index(index).ok())
        .ok_or_else(|| format!("reading section `{section}`"))?;
    let (start, size) = (symbol.address(), symbol.size());
    let data = text
        .data()
        .map_err(|e| format!("reading section `{section}`: {e}"))?;
    let code = data
        .get(start as usize..(start + size) as usize)
        .ok_or_else(|| format!("function `{program}` lies outside its section"))?;
    let decoded = Instructions::decode_endian(code, endian)
        .map_err(|e| format!("decoding function `{program}`: {e}"))?;
    let slots = first_slots(&decoded);
    let mut ops: Vec<Op> = decoded.iter().map(|i| *i.op()).collect();
    let mut names = Vec::new();
    for (offset, relocation) in text.relocations() {
        if offset < start || offset >= start + size {
            continue;
        }
        let RelocationTarget::Symbol(index) = relocation.target() else {
            continue;
        };
        let (Ok(target), Ok(slot)) = (
            file.symbol_by_index(index),
            usize::try_from((offset - start) / 8),
        ) else {
            continue;
        };
        let Ok(at) = slots.binary_search(&slot) else {
            continue;
        };
        if let Some((op, name)) = referred(&file, &target, ops[at]) {
            ops[at] = op;
            names.push((at, name));
        }
    }
    let mut instructions: Instructions = ops
        .into_iter()
        .map(Instruction::new)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("relocating function `{program}`: {e}"))?;
    for (at, name) in names {
        instructions.set_reference(at, name);
    }
    Ok(instructions)
}

/// The slot each instruction starts at.
fn first_slots(instructions: &Instructions) -> Vec<usize> {
    let mut at = 0;
    instructions
        .iter()
        .map(|instruction| {
            let first = at;
            at += instruction.slot_count();
            first
        })
        .collect()
}

/// What the instruction `op` becomes once it refers to `target`, and the
/// name it refers to it by; `None` for a relocation libbpf would not make
/// of it.
fn referred<'data>(
    file: &object::File<'data>,
    target: &object::Symbol<'data, '_>,
    op: Op,
) -> Option<(Op, String)> {
    let section = target
        .section_index()
        .and_then(|index| file.section_by_index(index).ok());
    let section_name = section.as_ref().and_then(|s| s.name().ok()).unwrap_or("");
    let name = match target.name() {
        Ok(name) if !name.is_empty() && target.kind() != SymbolKind::Section => name.to_owned(),
        _ => section_name.to_owned(),
    };
    let executable = section
        .as_ref()
        .is_some_and(|s| s.kind() == SectionKind::Text);
    match op {
        Op::LoadImm64 { dst, value } => {
            // The first immediate holds the offset from the symbol.
            let imm = i64::from(value as i32);
            let pseudo = |pseudo, next_imm| Op::LoadPseudo {
                dst,
                pseudo,
                imm: 0,
                next_imm,
            };
            if target.is_undefined() {
                // An extern: a kernel variable (`__ksym`) or a `__kconfig`
                // value; libbpf tells them apart by BTF.
                return Some((pseudo(Pseudo::BtfId, 0), name));
            }
            if executable {
                let function = function_at(file, target, imm)?;
                return Some((pseudo(Pseudo::Func, 0), function));
            }
            if section_name == ".maps" || section_name == "maps" {
                return Some((pseudo(Pseudo::MapFd, 0), name));
            }
            // A global variable, or a constant of a data section: the
            // section's value at the variable's offset.
            let offset = target.address().wrapping_add(imm as u64) as i32;
            Some((pseudo(Pseudo::MapValue, offset), section_name.to_owned()))
        }
        Op::Call(Call::Local(_) | Call::Helper(_)) if target.is_undefined() => {
            let kfunc = Op::Call(Call::Kfunc {
                btf_id: 0,
                module: 0,
            });
            Some((kfunc, name))
        }
        Op::Call(Call::Kfunc { .. }) => Some((op, name)),
        Op::Call(Call::Local(imm)) if executable => {
            // The call lands `imm + 1` slots past the symbol (a function's
            // own, with -1; or its section's).
            let function = function_at(file, target, (i64::from(imm) + 1) * 8)?;
            Some((op, function))
        }
        _ => None,
    }
}

/// The function `offset` bytes past `target` in its section.
fn function_at<'data>(
    file: &object::File<'data>,
    target: &object::Symbol<'data, '_>,
    offset: i64,
) -> Option<String> {
    let address = target.address().wrapping_add(offset as u64);
    let section = target.section_index()?;
    file.symbols()
        .find(|s| {
            s.kind() == SymbolKind::Text
                && s.section_index() == Some(section)
                && s.address() == address
        })
        .and_then(|s| s.name().ok().map(str::to_owned))
}
