//! Filling in what clang leaves for libbpf: in a `.bpf.o`, DATASEC sizes
//! and variable offsets are zero until libbpf sets them at open time from
//! the ELF section sizes and symbol values. The macro does the same, so
//! the layouts it generates are the ones libbpf will use.

use std::collections::HashMap;

use super::{Btf, Kind};

/// Where each data section's variables are, as the ELF symbol table says.
pub struct SectionInfo {
    pub size: u64,
    /// Variable name to offset within the section.
    pub symbols: HashMap<String, u64>,
}

/// Sets each DATASEC's size and its variables' offsets from the ELF.
/// `.kconfig` and `.ksyms` are left alone: libbpf lays them out itself.
pub fn fix_datasecs(btf: &mut Btf, sections: &HashMap<String, SectionInfo>) -> Result<(), String> {
    let var_names: Vec<String> = btf.types.iter().map(|t| t.name.clone()).collect();
    for ty in &mut btf.types {
        let Kind::Datasec(sec) = &mut ty.kind else {
            continue;
        };
        let Some(info) = sections.get(&ty.name) else {
            continue;
        };
        sec.size =
            u32::try_from(info.size).map_err(|_| format!("section `{}` is too large", ty.name))?;
        for var in &mut sec.vars {
            let name = var_names.get(var.var as usize).ok_or_else(|| {
                format!(
                    "section `{}` names BTF type {} which does not exist",
                    ty.name, var.var
                )
            })?;
            if let Some(&offset) = info.symbols.get(name) {
                var.offset = u32::try_from(offset)
                    .map_err(|_| format!("`{name}` lies too far into its section"))?;
            }
        }
    }
    Ok(())
}

/// Lays out `.kconfig` as libbpf does at open time: the externs sorted by
/// alignment (largest first), then size (smallest first), then name, each at
/// the next offset its alignment allows.
pub fn fix_kconfig(btf: &mut Btf) -> Result<(), String> {
    let Some(index) = btf
        .types
        .iter()
        .position(|t| t.name == ".kconfig" && matches!(t.kind, Kind::Datasec(_)))
    else {
        return Ok(());
    };
    let Kind::Datasec(sec) = &btf.types[index].kind else {
        return Ok(());
    };
    let mut vars = Vec::new();
    for v in &sec.vars {
        let Kind::Var { ty, .. } = btf.get(v.var)?.kind else {
            continue;
        };
        let size = btf.size_of(ty)?;
        vars.push((
            align_of(btf, ty)?,
            size,
            btf.types[v.var as usize].name.clone(),
            v.var,
        ));
    }
    vars.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut offset = 0u64;
    let mut laid = Vec::new();
    for (align, size, _, var) in &vars {
        offset = offset.next_multiple_of(*align);
        laid.push(super::VarSecinfo {
            var: *var,
            offset: offset as u32,
        });
        offset += size;
    }
    if let Kind::Datasec(sec) = &mut btf.types[index].kind {
        sec.vars = laid;
        sec.size = offset as u32;
    }
    Ok(())
}

/// The alignment libbpf gives a kconfig extern's type.
fn align_of(btf: &Btf, ty: super::TypeId) -> Result<u64, String> {
    let id = btf.skip_aliases(ty)?;
    Ok(match &btf.get(id)?.kind {
        Kind::Int(i) => u64::from(i.size.clamp(1, 8)),
        Kind::Enum(e) => u64::from(e.size.clamp(1, 8)),
        Kind::Ptr(_) => 8,
        Kind::Array { elem, .. } => align_of(btf, *elem)?,
        _ => 1,
    })
}
