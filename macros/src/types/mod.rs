//! Rust types for the object's BTF types (`prog::types`).
//!
//! [`Resolver`] hands out the Rust spelling ([`Ty`]) of any BTF type and
//! queues the named ones (structs, unions, enums, typedefs) it meets;
//! [`Resolver::finish`] plans each of them ([`Def`]): its name, exact
//! layout (in [`layout`]), accessors and what it can derive. Every error is
//! found here, before any token is written; [`emit`] then writes the
//! checked definitions and cannot fail.

pub mod emit;
pub mod layout;
mod naming;
mod resolve;

use proc_macro2::Ident;

pub use naming::camel;
pub use resolve::Resolver;

/// A Rust type expression for a BTF type.
#[derive(Clone, PartialEq)]
pub enum Ty {
    /// `u8` ... `i128`, `f32`, `f64`.
    Scalar(&'static str),
    /// `[u8; N]`, for what has a size but no Rust scalar.
    Bytes(u64),
    /// `[T; N]`.
    Array(Box<Ty>, u64),
    /// A generated type: an index into [`TypeSet::defs`].
    Def(usize),
    /// `bool`: a C `bool` variable of a data section. Inside generated
    /// types a C `bool` stays `u8`, since their bytes may come from the
    /// kernel, which may store any byte there.
    Bool,
}

/// Every generated type of one skeleton, in the order they were planned.
#[derive(Default)]
pub struct TypeSet {
    pub defs: Vec<Def>,
}

/// One generated type, checked and planned.
pub struct Def {
    /// The Rust name (`TaskStruct`).
    pub name: Ident,
    /// The C name, empty for an anonymous type.
    pub c_name: String,
    pub body: Body,
}

/// What a generated type is.
pub enum Body {
    Struct(Struct),
    Union(Union),
    Enum(Enum),
    /// `pub type Name = Ty;` (a typedef of an array or a named type).
    Alias(Ty),
}

/// A struct laid out exactly as its BTF says.
pub struct Struct {
    pub size: u64,
    /// `repr(C, packed)`: a member sits off its natural alignment.
    pub packed: bool,
    pub fields: Vec<Field>,
    /// Whether a float lies inside (outside unions, which compare as
    /// bytes): equality then compares values, not bytes.
    pub has_float: bool,
}

/// A field of a planned struct (or data section), in offset order.
pub enum Field {
    /// A member at its byte offset.
    Member {
        /// The Rust field name (`r#type`, `__anon_0`).
        ident: Ident,
        /// The C name, empty for an anonymous member.
        c_name: String,
        ty: Ty,
        offset: u64,
    },
    /// Bytes holding bitfields, read and written through accessors.
    Bits {
        index: usize,
        size: u64,
        accessors: Vec<BitAccessor>,
    },
    /// Padding no member covers.
    Pad { index: usize, size: u64 },
}

/// A bitfield's getter and setter.
pub struct BitAccessor {
    /// The getter's name; the setter is `set_` and this.
    pub ident: Ident,
    pub c_name: String,
    /// The integer it reads as (`u32`, `i8`, ...).
    pub prim: &'static str,
    pub signed: bool,
    /// First bit, counted from the storage's first byte.
    pub bit: u32,
    pub width: u32,
}

/// A C union: aligned bytes, read and written member by member.
pub struct Union {
    pub size: u64,
    pub align: u64,
    pub members: Vec<UnionMember>,
}

/// A union member's accessors.
pub enum UnionMember {
    /// `name()` reads the bytes as `ty`, `set_name(v)` writes them.
    Value {
        ident: Ident,
        c_name: String,
        ty: Ty,
    },
    /// A bitfield of the union's bytes.
    Bits(BitAccessor),
}

/// A C enum as a newtype over its integer.
pub struct Enum {
    pub size: u64,
    pub prim: &'static str,
    /// `(Rust constant name, C name, value)`.
    pub values: Vec<(Ident, String, i128)>,
}

/// The Rust integer for a C integer of `size` bytes. C `bool` is `u8`:
/// bytes from the kernel may hold any value, which Rust's `bool` cannot
/// (data sections' own `bool` variables are `bool`: see [`Ty::Bool`]).
pub fn int_ty(size: u32, signed: bool) -> Ty {
    match int_name(size, signed) {
        Some(name) => Ty::Scalar(name),
        None => Ty::Bytes(size.into()),
    }
}

/// The Rust integer of `size` bytes, if there is one.
pub fn int_name(size: u32, signed: bool) -> Option<&'static str> {
    Some(match (size, signed) {
        (1, false) => "u8",
        (1, true) => "i8",
        (2, false) => "u16",
        (2, true) => "i16",
        (4, false) => "u32",
        (4, true) => "i32",
        (8, false) => "u64",
        (8, true) => "i64",
        (16, false) => "u128",
        (16, true) => "i128",
        _ => return None,
    })
}
