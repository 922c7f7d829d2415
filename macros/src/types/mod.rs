//! Rust types for the object's BTF types (`prog::types`).
//!
//! [`TypeGen`] hands out the Rust spelling of any BTF type and queues the
//! named ones (structs, unions, enums, typedefs) it meets; [`TypeGen::finish`]
//! writes them all. Layout is planned in [`layout`] and written in [`emit`],
//! with a compile-time assertion of every size and offset.

mod emit;
pub mod layout;
mod naming;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::btf::{Btf, Kind, TypeId};

pub(crate) use emit::pod_derives;
pub use naming::camel;

/// Collects and writes the generated types of one object.
pub struct TypeGen<'a> {
    btf: &'a Btf,
    /// The Rust name given to each generated type.
    names: HashMap<TypeId, String>,
    used: HashSet<String>,
    pending: Vec<TypeId>,
    emitted: HashSet<TypeId>,
    packed: HashMap<TypeId, bool>,
}

/// Where a type is spelled: inside `types` or from the skeleton module.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Types,
    Skeleton,
}

impl<'a> TypeGen<'a> {
    pub fn new(btf: &'a Btf) -> Self {
        TypeGen {
            btf,
            names: HashMap::new(),
            used: HashSet::new(),
            pending: Vec::new(),
            emitted: HashSet::new(),
            packed: HashMap::new(),
        }
    }

    pub fn btf(&self) -> &'a Btf {
        self.btf
    }

    /// The Rust type for BTF type `id`. `hint` names an anonymous struct,
    /// union or enum after where it was found.
    pub fn rust_type(
        &mut self,
        id: TypeId,
        hint: &str,
        scope: Scope,
    ) -> Result<TokenStream, String> {
        let id = self.btf.skip_qualifiers(id)?;
        let ty = self.btf.get(id)?;
        Ok(match &ty.kind {
            // Plain `char` (clang marks it signed) is a byte: `char[N]` reads
            // as `[u8; N]`, which is what text in Rust wants.
            Kind::Int(int) => int_type(int.size, int.signed && !int.char && ty.name != "char", int.bool),
            Kind::Ptr(_) => quote!(u64),
            Kind::Float { size: 4 } => quote!(f32),
            Kind::Float { size: 8 } => quote!(f64),
            Kind::Float { size } => bytes_type(*size),
            Kind::Array { elem, len } => {
                let elem = self.rust_type(*elem, hint, scope)?;
                let len = *len as usize;
                quote!([#elem; #len])
            }
            Kind::Enum(e) if ty.name.is_empty() => int_type(e.size, e.signed, false),
            Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) => self.named(id, hint, scope),
            Kind::Typedef(target) => self.typedef(id, *target, scope)?,
            Kind::Void => return Err("`void` has no Rust type".into()),
            Kind::Fwd => {
                return Err(format!(
                    "`{}` is only declared in the object (a forward declaration); its layout is unknown",
                    ty.name
                ))
            }
            other => return Err(format!("a {} has no Rust type", crate::btf::kind_name(other))),
        })
    }

    /// Queues a named type the user asked for; returns its Rust name.
    pub fn request(&mut self, id: TypeId) -> Result<String, String> {
        self.rust_type(id, "", Scope::Types)?;
        let id = self.btf.skip_qualifiers(id)?;
        Ok(self.names.get(&id).cloned().unwrap_or_default())
    }

    /// Writes every queued type (and those they refer to).
    pub fn finish(&mut self) -> Result<TokenStream, String> {
        let mut items = TokenStream::new();
        while let Some(id) = self.pending.pop() {
            if self.emitted.insert(id) {
                items.extend(self.emit(id)?);
            }
        }
        Ok(items)
    }

    /// Typedefs of scalars are spelled as the scalar (`__u32` is `u32`);
    /// a typedef naming an anonymous type gives that type its name; others
    /// become `pub type` aliases.
    fn typedef(&mut self, id: TypeId, target: TypeId, scope: Scope) -> Result<TokenStream, String> {
        let name = self.btf.get(id)?.name.clone();
        let resolved = self.btf.skip_aliases(target)?;
        let target_ty = self.btf.get(resolved)?;
        match &target_ty.kind {
            Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) if target_ty.name.is_empty() => {
                Ok(self.named(resolved, &name, scope))
            }
            Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) | Kind::Array { .. } => {
                Ok(self.named(id, &name, scope))
            }
            _ => self.rust_type(target, &name, scope),
        }
    }

    /// The path of a generated type, queuing it.
    fn named(&mut self, id: TypeId, hint: &str, scope: Scope) -> TokenStream {
        let name = self.name_of(id, hint);
        if !self.emitted.contains(&id) && !self.pending.contains(&id) {
            self.pending.push(id);
        }
        let ident = Ident::new(&name, Span::call_site());
        match scope {
            Scope::Types => quote!(#ident),
            Scope::Skeleton => quote!(types::#ident),
        }
    }

    fn name_of(&mut self, id: TypeId, hint: &str) -> String {
        if let Some(name) = self.names.get(&id) {
            return name.clone();
        }
        let c_name = &self.btf.types[id as usize].name;
        let mut name = camel(if c_name.is_empty() { hint } else { c_name });
        if !self.used.insert(name.clone()) {
            name = format!("{name}{id}");
            self.used.insert(name.clone());
        }
        self.names.insert(id, name.clone());
        name
    }

    /// The alignment Rust gives the type generated for `id`.
    pub fn align_of(&mut self, id: TypeId) -> Result<u64, String> {
        let id = self.btf.skip_aliases(id)?;
        Ok(match &self.btf.get(id)?.kind {
            Kind::Int(i) => scalar_align(i.size),
            Kind::Enum(e) => scalar_align(e.size),
            Kind::Float { size } if matches!(size, 4 | 8) => u64::from(*size),
            Kind::Ptr(_) => 8,
            Kind::Array { elem, .. } => self.align_of(*elem)?,
            Kind::Struct(c) => {
                if self.is_packed(id)? {
                    1
                } else {
                    self.max_align(&c.members.iter().map(|m| m.ty).collect::<Vec<_>>())?
                }
            }
            Kind::Union(c) => self.union_align(
                c.size.into(),
                &c.members.iter().map(|m| m.ty).collect::<Vec<_>>(),
            )?,
            _ => 1,
        })
    }

    fn max_align(&mut self, types: &[TypeId]) -> Result<u64, String> {
        let mut align = 1;
        for &ty in types {
            align = align.max(self.align_of(ty)?);
        }
        Ok(align)
    }

    /// A union is byte storage aligned like its most aligned member, when
    /// its size allows.
    fn union_align(&mut self, size: u64, members: &[TypeId]) -> Result<u64, String> {
        let align = self.max_align(members)?;
        Ok(if size.is_multiple_of(align) { align } else { 1 })
    }

    /// Whether the struct needs `repr(packed)`: a member sits off its
    /// natural alignment, or the size is not a multiple of it.
    fn is_packed(&mut self, id: TypeId) -> Result<bool, String> {
        if let Some(&packed) = self.packed.get(&id) {
            return Ok(packed);
        }
        let Kind::Struct(c) = &self.btf.get(id)?.kind else {
            return Ok(false);
        };
        let c = c.clone();
        let owner = self.btf.types[id as usize].name.clone();
        let packed = self.needs_packing(&owner, c.size.into(), &c.members)?;
        self.packed.insert(id, packed);
        Ok(packed)
    }

    pub(crate) fn needs_packing(
        &mut self,
        owner: &str,
        size: u64,
        members: &[crate::btf::Member],
    ) -> Result<bool, String> {
        let mut max = 1;
        for slot in layout::plan(self.btf, owner, size, members)? {
            if let layout::Slot::Field { ty, offset, .. } = slot {
                let align = self.align_of(ty)?;
                if !offset.is_multiple_of(align) {
                    return Ok(true);
                }
                max = max.max(align);
            }
        }
        Ok(!size.is_multiple_of(max))
    }
}

fn scalar_align(size: u32) -> u64 {
    match size {
        1 | 2 | 4 | 8 | 16 => size.into(),
        _ => 1,
    }
}

/// The Rust integer for a C integer of `size` bytes. C `bool` is `u8`:
/// bytes from the kernel may hold any value, which Rust's `bool` cannot.
fn int_type(size: u32, signed: bool, _bool: bool) -> TokenStream {
    match (size, signed) {
        (1, false) => quote!(u8),
        (1, true) => quote!(i8),
        (2, false) => quote!(u16),
        (2, true) => quote!(i16),
        (4, false) => quote!(u32),
        (4, true) => quote!(i32),
        (8, false) => quote!(u64),
        (8, true) => quote!(i64),
        (16, false) => quote!(u128),
        (16, true) => quote!(i128),
        (size, _) => bytes_type(size),
    }
}

fn bytes_type(size: u32) -> TokenStream {
    let size = size as usize;
    quote!([u8; #size])
}
