//! What the macro knows about an object: the model every later stage reads.

use crate::btf::{Btf, TypeId};

/// A compiled eBPF object.
pub struct Object {
    /// The module name: the file name up to its first dot.
    pub name: String,
    /// The programs, in the order of their sections.
    pub programs: Vec<Program>,
    /// The maps declared in `.maps`.
    pub maps: Vec<Map>,
    /// The struct_ops maps (`.struct_ops`, `.struct_ops.link`, and their
    /// `?` forms, created only when asked).
    pub struct_ops: Vec<StructOpsMap>,
    /// Data sections holding global variables (`.bss`, `.data`, `.rodata`,
    /// `.data.*`, `.rodata.*`, `.kconfig`), in ELF order.
    pub sections: Vec<DataSection>,
    /// The object's types, when it has a `.BTF` section.
    pub btf: Option<Btf>,
    /// Maps the subprograms in `.text` refer to: any program may call them.
    pub text_maps: Vec<String>,
    /// What the programs take from the kernel (`.ksyms`), which libbpf
    /// resolves at load.
    pub kernel_symbols: Vec<KernelSymbol>,
}

/// An `extern ... __ksym` declaration: a kernel function (kfunc) or a
/// kernel variable.
pub struct KernelSymbol {
    pub name: String,
    /// A kfunc, rather than a variable.
    pub function: bool,
    /// Declared `__weak`: the object loads on a kernel without it.
    pub weak: bool,
}

/// A program: a global function in an executable section other than `.text`.
pub struct Program {
    /// The C function's name.
    pub name: String,
    /// The ELF section, which libbpf reads the program type and hook from.
    pub section: String,
    /// The maps its instructions refer to (by relocation).
    pub maps: Vec<String>,
}

/// A map declared in the `.maps` section.
pub struct Map {
    /// The map variable's name.
    pub name: String,
    /// What its BTF definition says, when there is one.
    pub def: Option<MapDef>,
    /// Maps it holds from the start (`.values = { &inner }` of a map of maps).
    pub inner: Vec<String>,
}

/// A struct_ops map: a variable of a kernel interface's struct type whose
/// callbacks are programs of the object.
pub struct StructOpsMap {
    /// The variable's name.
    pub name: String,
    /// The ELF section (`.struct_ops.link`, ...).
    pub section: String,
    /// The variable's type: the interface's struct.
    pub ty: TypeId,
}

/// A map's definition from BTF (`__uint(type, ...)`, `__type(key, ...)`).
#[derive(Default, Clone)]
pub struct MapDef {
    /// `BPF_MAP_TYPE_*`.
    pub kind: Option<u32>,
    pub key: Option<TypeId>,
    pub value: Option<TypeId>,
    pub key_size: Option<u32>,
    pub value_size: Option<u32>,
    pub max_entries: Option<u32>,
    /// Inner map definition (`__array(values, ...)`) of a map of maps.
    pub has_inner: bool,
}

/// A data section's global variables.
pub struct DataSection {
    /// The ELF section name, e.g. `.rodata`.
    pub name: String,
    /// The DATASEC type in BTF, with offsets fixed up.
    pub datasec: TypeId,
}
