//! The checked skeleton: everything expansion writes, decided. `check`
//! builds it from the model, reporting every error; `expand` writes it
//! and cannot fail.

use proc_macro2::{Ident, TokenStream};

use crate::map_kinds::TypedMap;
use crate::types::{Field, Ty, TypeSet};

/// One `ebpf_skeleton!` invocation, checked.
pub struct Skeleton {
    /// The module's name (`execsnoop`).
    pub module: Ident,
    /// The object's name, as libbpf names it.
    pub name: String,
    /// The object file's absolute path, for `include_bytes!`.
    pub path: String,
    /// The runtime crate's path in generated code.
    pub krate: TokenStream,
    pub programs: Vec<ProgramField>,
    pub maps: Vec<MapField>,
    pub struct_ops: Vec<StructOpsField>,
    pub sections: Vec<SectionPlan>,
    pub types: TypeSet,
    /// What the object takes from the kernel, for the module's docs.
    pub kernel_doc: Option<String>,
}

/// A program's field in `ProgramSpecs` and `Programs`.
pub struct ProgramField {
    pub name: String,
    pub ident: Ident,
    pub section: String,
}

/// A map's field in `MapSpecs` and `Maps`.
pub struct MapField {
    pub name: String,
    pub ident: Ident,
    /// `BPF_MAP_TYPE_*`, when BTF says.
    pub kind: Option<u32>,
    /// The typed map the field holds; the byte map when `None`.
    pub typed: Option<TypedField>,
}

/// A struct_ops map's fields: its data in `StructOpsSpecs`, its handle in
/// `StructOpsMaps`.
pub struct StructOpsField {
    pub name: String,
    pub ident: Ident,
    /// The ELF section, `.struct_ops.link` and the like.
    pub section: String,
    /// The generated type of its C struct.
    pub ty: Ty,
}

/// A typed map and its type parameters.
pub struct TypedField {
    pub map: &'static TypedMap,
    pub key: Option<Ty>,
    pub value: Option<Ty>,
}

/// A data section's two structs: plain (set before load) and view (live).
pub struct SectionPlan {
    /// The ELF section name, e.g. `.rodata`.
    pub section: String,
    /// The field in `Specs` and `Objects`, e.g. `rodata`.
    pub field: Ident,
    /// The plain struct (`Rodata`).
    pub plain: Ident,
    /// The live view (`RodataView`).
    pub view: Ident,
    /// The section's size in bytes, as BTF gives it.
    pub size: u64,
    /// The structs' size: the section's, rounded up to their alignment.
    pub padded: u64,
    /// `.bss` and `.data*` are; `.rodata*` and `.kconfig` are not.
    pub writable: bool,
    pub has_float: bool,
    pub fields: Vec<Field>,
    /// The byte offsets of the plain struct's `bool`s (C `bool` variables,
    /// and each element of a `bool` array).
    pub bools: Vec<u64>,
}
