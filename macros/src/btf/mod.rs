//! A reader for BTF, the type information clang puts in `.BTF`.
//!
//! Only what the skeleton needs is kept: every type with its name, in a
//! table indexed by BTF type id (0 is `void`). See the kernel's
//! Documentation/bpf/btf.rst for the format.

mod fixup;
mod parse;
mod validate;

pub use fixup::{fix_datasecs, fix_kconfig, SectionInfo};
pub use parse::parse;

/// A BTF type id; 0 is `void`.
pub type TypeId = u32;

/// All types of an object's `.BTF` section.
pub struct Btf {
    /// Indexed by type id; entry 0 is `void`.
    pub types: Vec<Type>,
}

/// One BTF type.
#[derive(Debug, Clone)]
pub struct Type {
    /// The name, empty for anonymous types.
    pub name: String,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Void,
    Int(Int),
    Ptr(TypeId),
    Array { elem: TypeId, len: u32 },
    Struct(Composite),
    Union(Composite),
    Enum(Enum),
    Fwd,
    Typedef(TypeId),
    Volatile(TypeId),
    Const(TypeId),
    Restrict(TypeId),
    Func,
    FuncProto,
    Var { ty: TypeId, global: bool },
    Datasec(Datasec),
    Float { size: u32 },
    DeclTag,
    TypeTag(TypeId),
}

#[derive(Debug, Clone, Copy)]
pub struct Int {
    /// Size in bytes.
    pub size: u32,
    /// Bits used, and where they start, for old-style (kind_flag 0)
    /// bitfields; `bits == size * 8` and `offset == 0` otherwise.
    pub bits: u32,
    pub offset: u32,
    pub signed: bool,
    pub char: bool,
    pub bool: bool,
}

/// A struct or union.
#[derive(Debug, Clone)]
pub struct Composite {
    pub size: u32,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone)]
pub struct Member {
    /// Empty for an anonymous struct or union member.
    pub name: String,
    pub ty: TypeId,
    /// Offset from the start of the composite, in bits.
    pub bit_offset: u32,
    /// Width of a bitfield in bits; 0 for an ordinary member.
    pub bitfield_size: u32,
}

#[derive(Debug, Clone)]
pub struct Enum {
    /// Size in bytes (1, 2, 4 or 8).
    pub size: u32,
    pub signed: bool,
    pub values: Vec<(String, i128)>,
}

/// A data section (`.bss`, `.data`, `.rodata`, `.maps`, ...) and its
/// variables.
#[derive(Debug, Clone)]
pub struct Datasec {
    pub size: u32,
    pub vars: Vec<VarSecinfo>,
}

#[derive(Debug, Clone, Copy)]
pub struct VarSecinfo {
    /// The `Var` type.
    pub var: TypeId,
    pub offset: u32,
}

impl Btf {
    /// The type `id`, or an error naming it when the id is out of range.
    pub fn get(&self, id: TypeId) -> Result<&Type, String> {
        self.types.get(id as usize).ok_or_else(|| {
            format!(
                "BTF type id {id} is out of range ({} types)",
                self.types.len()
            )
        })
    }

    /// Follows typedefs and qualifiers (const, volatile, restrict, type
    /// tags) to the type they stand for.
    pub fn skip_aliases(&self, mut id: TypeId) -> Result<TypeId, String> {
        for _ in 0..64 {
            match self.get(id)?.kind {
                Kind::Typedef(t)
                | Kind::Volatile(t)
                | Kind::Const(t)
                | Kind::Restrict(t)
                | Kind::TypeTag(t) => id = t,
                _ => return Ok(id),
            }
        }
        Err(format!("BTF type id {id}: a chain of typedefs loops"))
    }

    /// Follows qualifiers only, keeping typedefs.
    pub fn skip_qualifiers(&self, mut id: TypeId) -> Result<TypeId, String> {
        for _ in 0..64 {
            match self.get(id)?.kind {
                Kind::Volatile(t) | Kind::Const(t) | Kind::Restrict(t) | Kind::TypeTag(t) => id = t,
                _ => return Ok(id),
            }
        }
        Err(format!("BTF type id {id}: a chain of qualifiers loops"))
    }

    /// The size in bytes of a value of type `id`.
    pub fn size_of(&self, id: TypeId) -> Result<u64, String> {
        let id = self.skip_aliases(id)?;
        Ok(match &self.get(id)?.kind {
            Kind::Int(i) => i.size.into(),
            Kind::Ptr(_) => 8,
            Kind::Array { elem, len } => self
                .size_of(*elem)?
                .checked_mul(u64::from(*len))
                .ok_or_else(|| format!("BTF type id {id}: an array too large to exist"))?,
            Kind::Struct(c) | Kind::Union(c) => c.size.into(),
            Kind::Enum(e) => e.size.into(),
            Kind::Float { size } => (*size).into(),
            Kind::Datasec(d) => d.size.into(),
            Kind::Var { ty, .. } => self.size_of(*ty)?,
            other => {
                return Err(format!(
                    "BTF type id {id} ({}) has no size",
                    kind_name(other)
                ))
            }
        })
    }

    /// The datasec named `name`, with its type id.
    pub fn datasec(&self, name: &str) -> Option<(TypeId, &Datasec)> {
        self.types
            .iter()
            .enumerate()
            .find_map(|(id, t)| match &t.kind {
                Kind::Datasec(d) if t.name == name => Some((id as TypeId, d)),
                _ => None,
            })
    }

    /// Every named type, by name, for `types = [...]` requests.
    pub fn find_named(&self, name: &str) -> Option<TypeId> {
        self.types
            .iter()
            .position(|t| {
                t.name == name
                    && matches!(
                        t.kind,
                        Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) | Kind::Typedef(_)
                    )
            })
            .map(|i| i as TypeId)
    }
}

/// The kind's name as BTF documentation spells it, for messages.
pub fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Void => "void",
        Kind::Int(_) => "int",
        Kind::Ptr(_) => "pointer",
        Kind::Array { .. } => "array",
        Kind::Struct(_) => "struct",
        Kind::Union(_) => "union",
        Kind::Enum(_) => "enum",
        Kind::Fwd => "forward declaration",
        Kind::Typedef(_) => "typedef",
        Kind::Volatile(_) => "volatile",
        Kind::Const(_) => "const",
        Kind::Restrict(_) => "restrict",
        Kind::Func => "function",
        Kind::FuncProto => "function prototype",
        Kind::Var { .. } => "variable",
        Kind::Datasec(_) => "data section",
        Kind::Float { .. } => "float",
        Kind::DeclTag => "declaration tag",
        Kind::TypeTag(_) => "type tag",
    }
}
