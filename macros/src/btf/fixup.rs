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
        let Kind::Datasec(sec) = &mut ty.kind else { continue };
        let Some(info) = sections.get(&ty.name) else { continue };
        sec.size = u32::try_from(info.size).map_err(|_| format!("section `{}` is too large", ty.name))?;
        for var in &mut sec.vars {
            let name = var_names
                .get(var.var as usize)
                .ok_or_else(|| format!("section `{}` names BTF type {} which does not exist", ty.name, var.var))?;
            if let Some(&offset) = info.symbols.get(name) {
                var.offset = u32::try_from(offset).map_err(|_| format!("`{name}` lies too far into its section"))?;
            }
        }
    }
    Ok(())
}
