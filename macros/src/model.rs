//! What the macro knows about an object: the model every later stage reads.

/// A compiled eBPF object.
pub struct Object {
    /// The module name: the file name up to its first dot.
    pub name: String,
    /// The programs, in the order of their sections.
    pub programs: Vec<Program>,
    /// The maps declared in `.maps`.
    pub maps: Vec<Map>,
}

/// A program: a global function in an executable section other than `.text`.
pub struct Program {
    /// The C function's name.
    pub name: String,
    /// The ELF section, which libbpf reads the program type and hook from.
    pub section: String,
}

/// A map declared in the `.maps` section.
pub struct Map {
    /// The map variable's name.
    pub name: String,
}
