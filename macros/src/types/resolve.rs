//! From BTF to planned Rust types: names, layouts, accessors.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span};
use quote::format_ident;

use super::layout::{self, BitField, Slot};
use super::{camel, int_name, int_ty, BitAccessor, Body, Def, Enum, Field, Struct, Ty, TypeSet};
use super::{Union, UnionMember};
use crate::btf::{self, Btf, Composite, Kind, Member, TypeId};
use crate::ident;

/// Resolves BTF types into Rust types, queuing and then planning every
/// named type they reach.
pub struct Resolver<'a> {
    btf: &'a Btf,
    set: TypeSet,
    /// The definition each BTF type was given.
    index: HashMap<TypeId, usize>,
    used: HashSet<String>,
    /// Definitions named but not yet planned, with their BTF type.
    pending: Vec<(usize, TypeId)>,
    /// Errors found so far, each naming the type it is about.
    errors: Vec<String>,
    align: HashMap<TypeId, u64>,
    packed: HashMap<TypeId, bool>,
    float: HashMap<TypeId, bool>,
}

impl<'a> Resolver<'a> {
    pub fn new(btf: &'a Btf) -> Self {
        Resolver {
            btf,
            set: TypeSet::default(),
            index: HashMap::new(),
            used: HashSet::new(),
            pending: Vec::new(),
            errors: Vec::new(),
            align: HashMap::new(),
            packed: HashMap::new(),
            float: HashMap::new(),
        }
    }

    pub fn btf(&self) -> &'a Btf {
        self.btf
    }

    /// The Rust type for BTF type `id`. `hint` names an anonymous struct,
    /// union or enum after where it was found.
    pub fn ty(&mut self, id: TypeId, hint: &str) -> Result<Ty, String> {
        let id = self.btf.skip_qualifiers(id)?;
        let ty = self.btf.get(id)?;
        Ok(match &ty.kind {
            // Plain `char` (clang marks it signed) is a byte: `char[N]` reads
            // as `[u8; N]`, which is what text in Rust wants.
            Kind::Int(int) => int_ty(int.size, int.signed && !int.char && ty.name != "char"),
            Kind::Ptr(_) => Ty::Scalar("u64"),
            Kind::Float { size: 4 } => Ty::Scalar("f32"),
            Kind::Float { size: 8 } => Ty::Scalar("f64"),
            Kind::Float { size } => Ty::Bytes((*size).into()),
            Kind::Array { elem, len } => Ty::Array(Box::new(self.ty(*elem, hint)?), (*len).into()),
            Kind::Enum(e) if ty.name.is_empty() => int_ty(e.size, e.signed),
            Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) => self.named(id, hint),
            Kind::Typedef(target) => self.typedef(id, *target)?,
            Kind::Void => return Err("`void` has no Rust type".into()),
            Kind::Fwd => {
                return Err(format!(
                    "`{}` is only declared in the object (a forward declaration); its layout is unknown",
                    ty.name
                ))
            }
            other => return Err(format!("a {} has no Rust type", btf::kind_name(other))),
        })
    }

    /// Plans every queued type (and those they reach); returns them with
    /// the errors found, each naming its type.
    pub fn finish(mut self) -> (TypeSet, Vec<String>) {
        while let Some((def, id)) = self.pending.pop() {
            match self.plan(def, id) {
                Ok(body) => self.set.defs[def].body = body,
                Err(e) => {
                    let c = &self.btf.types[id as usize];
                    self.errors
                        .push(format!("{} `{}`: {e}", btf::kind_name(&c.kind), c.name));
                }
            }
        }
        (self.set, self.errors)
    }

    /// Typedefs of scalars are spelled as the scalar (`__u32` is `u32`);
    /// a typedef naming an anonymous type gives that type its name; others
    /// become `pub type` aliases.
    fn typedef(&mut self, id: TypeId, target: TypeId) -> Result<Ty, String> {
        let name = self.btf.get(id)?.name.clone();
        let resolved = self.btf.skip_aliases(target)?;
        let target_ty = self.btf.get(resolved)?;
        match &target_ty.kind {
            Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) if target_ty.name.is_empty() => {
                Ok(self.named(resolved, &name))
            }
            Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) | Kind::Array { .. } => {
                Ok(self.named(id, &name))
            }
            _ => self.ty(target, &name),
        }
    }

    /// The generated type for `id`, queued for planning the first time.
    fn named(&mut self, id: TypeId, hint: &str) -> Ty {
        if let Some(&def) = self.index.get(&id) {
            return Ty::Def(def);
        }
        let c_name = self.btf.types[id as usize].name.clone();
        let mut name = camel(if c_name.is_empty() { hint } else { &c_name });
        if !self.used.insert(name.clone()) {
            name = format!("{name}{id}");
            self.used.insert(name.clone());
        }
        let def = self.set.defs.len();
        self.set.defs.push(Def {
            name: Ident::new(&name, Span::call_site()),
            c_name,
            // Replaced when planned.
            body: Body::Alias(Ty::Bytes(0)),
        });
        self.index.insert(id, def);
        self.pending.push((def, id));
        Ty::Def(def)
    }

    fn plan(&mut self, def: usize, id: TypeId) -> Result<Body, String> {
        let name = self.set.defs[def].name.to_string();
        let kind = self.btf.get(id)?.kind.clone();
        Ok(match &kind {
            Kind::Struct(c) => Body::Struct(Struct {
                size: c.size.into(),
                packed: self.is_packed(id)?,
                fields: self.fields(&name, c.size.into(), &c.members)?,
                has_float: self.has_float(id)?,
            }),
            Kind::Union(c) => Body::Union(self.union(&name, id, c)?),
            Kind::Enum(e) => Body::Enum(enum_def(e)?),
            Kind::Typedef(target) => Body::Alias(self.ty(*target, &name)?),
            _ => return Err(format!("cannot generate a type for BTF type {id}")),
        })
    }

    /// The fields of a struct (or data section) `owner` of `size` bytes
    /// laid out like `members`: each at its offset, explicit padding
    /// between, bitfields grouped into byte storage.
    pub fn fields(
        &mut self,
        owner: &str,
        size: u64,
        members: &[Member],
    ) -> Result<Vec<Field>, String> {
        let mut fields = Vec::new();
        let mut anon = 0usize;
        for slot in layout::plan(self.btf, owner, size, members)? {
            fields.push(match slot {
                Slot::Field { name, ty, offset } => {
                    let (ident, hint) = if name.is_empty() {
                        anon += 1;
                        (
                            format_ident!("__anon_{}", anon - 1),
                            format!("{owner}Anon{}", anon - 1),
                        )
                    } else {
                        (ident::field(&name), format!("{owner}{}", camel(&name)))
                    };
                    Field::Member {
                        ident,
                        ty: self.ty(ty, &hint)?,
                        c_name: name,
                        offset,
                    }
                }
                Slot::Bits {
                    index,
                    size,
                    fields,
                    ..
                } => Field::Bits {
                    index,
                    size,
                    accessors: fields
                        .iter()
                        .map(|bf| self.bit_accessor(bf))
                        .collect::<Result<_, _>>()?,
                },
                Slot::Pad { index, size } => Field::Pad { index, size },
            });
        }
        Ok(fields)
    }

    fn bit_accessor(&self, bf: &BitField) -> Result<BitAccessor, String> {
        let (prim, signed) = match &self.btf.get(self.btf.skip_aliases(bf.ty)?)?.kind {
            Kind::Int(i) => {
                let signed = i.signed && !i.char && !i.bool;
                (int_name(i.size, signed), signed)
            }
            Kind::Enum(e) => (int_name(e.size, e.signed), e.signed),
            _ => {
                return Err(format!(
                    "bitfield `{}` is neither an integer nor an enum",
                    bf.name
                ))
            }
        };
        let prim = prim.ok_or_else(|| format!("bitfield `{}` has no integer type", bf.name))?;
        Ok(BitAccessor {
            ident: ident::field(&bf.name),
            c_name: bf.name.clone(),
            prim,
            signed,
            bit: bf.bit,
            width: bf.width,
        })
    }

    fn union(&mut self, name: &str, id: TypeId, c: &Composite) -> Result<Union, String> {
        let mut members = Vec::new();
        let mut anon = 0usize;
        for m in &c.members {
            if m.bitfield_size > 0 {
                members.push(UnionMember::Bits(self.bit_accessor(&BitField {
                    name: m.name.clone(),
                    ty: m.ty,
                    bit: m.bit_offset,
                    width: m.bitfield_size,
                })?));
                continue;
            }
            let (ident, hint) = if m.name.is_empty() {
                anon += 1;
                (
                    format_ident!("anon_{}", anon - 1),
                    format!("{name}Anon{}", anon - 1),
                )
            } else {
                (ident::field(&m.name), format!("{name}{}", camel(&m.name)))
            };
            let ty = self.ty(m.ty, &hint)?;
            members.push(UnionMember::Value {
                ident,
                c_name: m.name.clone(),
                ty,
            });
        }
        Ok(Union {
            size: c.size.into(),
            align: self.align_of(id)?,
            members,
        })
    }

    /// The alignment Rust gives the type generated for `id`.
    pub fn align_of(&mut self, id: TypeId) -> Result<u64, String> {
        let id = self.btf.skip_aliases(id)?;
        if let Some(&align) = self.align.get(&id) {
            return Ok(align);
        }
        let align = match &self.btf.get(id)?.kind {
            Kind::Int(i) => scalar_align(i.size),
            Kind::Enum(e) => scalar_align(e.size),
            Kind::Float { size } if matches!(size, 4 | 8) => u64::from(*size),
            Kind::Ptr(_) => 8,
            Kind::Array { elem, .. } => self.align_of(*elem)?,
            Kind::Struct(c) => {
                if self.is_packed(id)? {
                    1
                } else {
                    self.max_align(&c.members)?
                }
            }
            // A union is byte storage aligned like its most aligned member,
            // when its size allows.
            Kind::Union(c) => {
                let align = self.max_align(&c.members)?;
                if u64::from(c.size).is_multiple_of(align) {
                    align
                } else {
                    1
                }
            }
            _ => 1,
        };
        self.align.insert(id, align);
        Ok(align)
    }

    fn max_align(&mut self, members: &[Member]) -> Result<u64, String> {
        let mut align = 1;
        for m in members {
            align = align.max(self.align_of(m.ty)?);
        }
        Ok(align)
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
        let owner = &self.btf.types[id as usize].name;
        let packed = self.needs_packing(owner, c.size.into(), &c.members)?;
        self.packed.insert(id, packed);
        Ok(packed)
    }

    pub fn needs_packing(
        &mut self,
        owner: &str,
        size: u64,
        members: &[Member],
    ) -> Result<bool, String> {
        let mut max = 1;
        for slot in layout::plan(self.btf, owner, size, members)? {
            if let Slot::Field { ty, offset, .. } = slot {
                let align = self.align_of(ty)?;
                if !offset.is_multiple_of(align) {
                    return Ok(true);
                }
                max = max.max(align);
            }
        }
        Ok(!size.is_multiple_of(max))
    }

    /// Whether a float lies inside `id` by value, outside unions (whose
    /// generated types compare as bytes).
    fn has_float(&mut self, id: TypeId) -> Result<bool, String> {
        let id = self.btf.skip_aliases(id)?;
        if let Some(&float) = self.float.get(&id) {
            return Ok(float);
        }
        let float = match &self.btf.get(id)?.kind {
            Kind::Float { size } => matches!(size, 4 | 8),
            Kind::Array { elem, .. } => self.has_float(*elem)?,
            Kind::Struct(c) => self.any_float(&c.members)?,
            _ => false,
        };
        self.float.insert(id, float);
        Ok(float)
    }

    /// Whether a float lies in any of `members` (see `has_float`).
    pub fn any_float(&mut self, members: &[Member]) -> Result<bool, String> {
        let mut any = false;
        for m in members {
            any |= self.has_float(m.ty)?;
        }
        Ok(any)
    }
}

fn enum_def(e: &btf::Enum) -> Result<Enum, String> {
    let prim = int_name(e.size, e.signed)
        .filter(|_| e.size <= 8)
        .ok_or_else(|| format!("an enum of {} bytes has no Rust integer", e.size))?;
    Ok(Enum {
        size: e.size.into(),
        prim,
        values: e
            .values
            .iter()
            .map(|(name, value)| (ident::field(name), name.clone(), *value))
            .collect(),
    })
}

fn scalar_align(size: u32) -> u64 {
    match size {
        1 | 2 | 4 | 8 | 16 => size.into(),
        _ => 1,
    }
}
