//! Writing one generated type: its definition, accessors and layout
//! assertions.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use super::layout::{self, BitField, Slot};
use super::{int_type, Scope, TypeGen};
use crate::btf::{Composite, Enum, Kind, Member, TypeId};
use crate::ident;

/// The derives every plain-data type gets, through the runtime's zerocopy.
pub(crate) fn pod_derives() -> TokenStream {
    quote! {
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::cmp::PartialEq,
            ::ebpf_skeleton::zerocopy::FromBytes,
            ::ebpf_skeleton::zerocopy::IntoBytes,
            ::ebpf_skeleton::zerocopy::Immutable,
            ::ebpf_skeleton::zerocopy::KnownLayout,
        )]
        #[zerocopy(crate = "::ebpf_skeleton::zerocopy")]
    }
}

/// `Default` is all zeroes, which also covers arrays longer than 32.
fn zeroed_default(name: &Ident) -> TokenStream {
    quote! {
        impl ::core::default::Default for #name {
            fn default() -> Self {
                ::ebpf_skeleton::zerocopy::FromZeros::new_zeroed()
            }
        }
    }
}

impl TypeGen<'_> {
    pub(super) fn emit(&mut self, id: TypeId) -> Result<TokenStream, String> {
        let ty = self.btf.get(id)?.clone();
        let name = Ident::new(&self.names[&id], Span::call_site());
        let doc = c_doc(&ty.name, &ty.kind);
        match &ty.kind {
            Kind::Struct(c) => self.emit_struct(id, &name, &doc, c),
            Kind::Union(c) => self.emit_union(&name, &doc, c),
            Kind::Enum(e) => Ok(emit_enum(&name, &doc, e)),
            Kind::Typedef(target) => {
                let target = self.rust_type(*target, &name.to_string(), Scope::Types)?;
                Ok(quote! { #[doc = #doc] pub type #name = #target; })
            }
            _ => Err(format!("cannot generate a type for BTF type {id}")),
        }
    }

    fn emit_struct(
        &mut self,
        id: TypeId,
        name: &Ident,
        doc: &str,
        c: &Composite,
    ) -> Result<TokenStream, String> {
        let packed = self.is_packed(id)?;
        let body = self.struct_body(
            &name.to_string(),
            c.size.into(),
            &c.members,
            Scope::Types,
            &|ty| ty,
        )?;
        let StructBody {
            fields,
            asserts,
            accessors,
        } = body;
        let repr = if packed {
            quote!(#[repr(C, packed)])
        } else {
            quote!(#[repr(C)])
        };
        let derives = pod_derives();
        let default = zeroed_default(name);
        let size = c.size as usize;
        Ok(quote! {
            #[doc = #doc]
            #repr
            #derives
            pub struct #name { #fields }
            #default
            impl #name { #accessors }
            const _: () = {
                ::core::assert!(::core::mem::size_of::<#name>() == #size);
                #asserts
            };
        })
    }

    /// Fields, offset assertions and bitfield accessors of a struct laid out
    /// like `members`; `wrap` turns each field's type into what is stored
    /// (the plain type, or a volatile cell for kernel-shared memory).
    pub(crate) fn struct_body(
        &mut self,
        owner: &str,
        size: u64,
        members: &[Member],
        scope: Scope,
        wrap: &dyn Fn(TokenStream) -> TokenStream,
    ) -> Result<StructBody, String> {
        let mut body = StructBody::default();
        let mut anon = 0usize;
        for slot in layout::plan(self.btf, owner, size, members)? {
            match slot {
                Slot::Field {
                    name, ty, offset, ..
                } => {
                    let (field, hint) = if name.is_empty() {
                        anon += 1;
                        (
                            format_ident!("__anon_{}", anon - 1),
                            format!("{owner}Anon{}", anon - 1),
                        )
                    } else {
                        (
                            ident::field(&name),
                            format!("{owner}{}", super::camel(&name)),
                        )
                    };
                    let rust = wrap(self.rust_type(ty, &hint, scope)?);
                    let offset = offset as usize;
                    let doc = if name.is_empty() {
                        format!("An anonymous member at byte {offset}.")
                    } else {
                        format!("`{name}`, at byte {offset}.")
                    };
                    body.fields.extend(quote!(#[doc = #doc] pub #field: #rust,));
                    body.asserts.extend(quote! {
                        ::core::assert!(::core::mem::offset_of!(Self_, #field) == #offset);
                    });
                }
                Slot::Bits {
                    index,
                    size,
                    fields,
                    offset,
                } => {
                    let storage = format_ident!("_bitfield_{}", index);
                    let size = size as usize;
                    let ty = wrap(quote!([u8; #size]));
                    // Public (but hidden) so `..Default::default()` works.
                    body.fields
                        .extend(quote!(#[doc(hidden)] pub #storage: #ty,));
                    let offset = offset as usize;
                    body.asserts.extend(quote! {
                        ::core::assert!(::core::mem::offset_of!(Self_, #storage) == #offset);
                    });
                    for bf in &fields {
                        body.accessors
                            .extend(self.bitfield_accessors(&storage, bf)?);
                    }
                }
                Slot::Pad { index, size, .. } => {
                    let pad = format_ident!("_pad_{}", index);
                    let size = size as usize;
                    let ty = wrap(quote!([u8; #size]));
                    body.fields.extend(quote!(#[doc(hidden)] pub #pad: #ty,));
                }
            }
        }
        let asserts = std::mem::take(&mut body.asserts);
        let owner_ident = Ident::new(owner, Span::call_site());
        body.asserts = quote! { { type Self_ = #owner_ident; #asserts } };
        Ok(body)
    }

    fn bitfield_accessors(
        &mut self,
        storage: &Ident,
        bf: &BitField,
    ) -> Result<TokenStream, String> {
        let (prim, signed) = self.bitfield_type(bf.ty)?;
        let getter = ident::field(&bf.name);
        let setter = format_ident!("set_{}", getter.to_string().trim_start_matches("r#"));
        let (bit, width) = (bf.bit, bf.width);
        let doc = format!(
            "The bitfield `{}` ({} bits at bit {} of `{}`).",
            bf.name, width, bit, storage
        );
        let set_doc = format!(
            "Sets the bitfield `{}`; bits above its width are dropped.",
            bf.name
        );
        Ok(quote! {
            #[doc = #doc]
            pub fn #getter(&self) -> #prim {
                ::ebpf_skeleton::__private::bitfield_get(&self.#storage, #bit, #width, #signed) as #prim
            }
            #[doc = #set_doc]
            pub fn #setter(&mut self, value: #prim) {
                ::ebpf_skeleton::__private::bitfield_set(&mut self.#storage, #bit, #width, value as u64)
            }
        })
    }

    /// The integer a bitfield reads as.
    fn bitfield_type(&self, ty: TypeId) -> Result<(TokenStream, bool), String> {
        Ok(match &self.btf.get(self.btf.skip_aliases(ty)?)?.kind {
            Kind::Int(i) => {
                let signed = i.signed && !i.char && !i.bool;
                (int_type(i.size, signed, i.bool), signed)
            }
            Kind::Enum(e) => (int_type(e.size, e.signed, false), e.signed),
            _ => return Err("a bitfield is neither an integer nor an enum".into()),
        })
    }

    fn emit_union(
        &mut self,
        name: &Ident,
        doc: &str,
        c: &Composite,
    ) -> Result<TokenStream, String> {
        let size = c.size as usize;
        let types: Vec<TypeId> = c.members.iter().map(|m| m.ty).collect();
        let align = self.union_align(c.size.into(), &types)?;
        let align_ty = int_type(align as u32, false, false);
        let mut accessors = TokenStream::new();
        let mut anon = 0usize;
        for m in &c.members {
            if m.bitfield_size > 0 {
                let bf = BitField {
                    name: m.name.clone(),
                    ty: m.ty,
                    bit: m.bit_offset,
                    width: m.bitfield_size,
                };
                accessors.extend(self.bitfield_accessors(&format_ident!("bytes"), &bf)?);
                continue;
            }
            let (getter, hint) = if m.name.is_empty() {
                anon += 1;
                (
                    format_ident!("anon_{}", anon - 1),
                    format!("{name}Anon{}", anon - 1),
                )
            } else {
                (
                    ident::field(&m.name),
                    format!("{name}{}", super::camel(&m.name)),
                )
            };
            let setter = format_ident!("set_{}", getter.to_string().trim_start_matches("r#"));
            let ty = self.rust_type(m.ty, &hint, Scope::Types)?;
            let doc = format!("Reads the union as its member `{}`.", m.name);
            let set_doc = format!("Writes the member `{}`.", m.name);
            accessors.extend(quote! {
                #[doc = #doc]
                pub fn #getter(&self) -> #ty {
                    ::ebpf_skeleton::__private::read_at(&self.bytes, 0)
                }
                #[doc = #set_doc]
                pub fn #setter(&mut self, value: #ty) {
                    ::ebpf_skeleton::__private::write_at(&mut self.bytes, 0, &value)
                }
            });
        }
        let derives = pod_derives();
        let default = zeroed_default(name);
        let align = align as usize;
        Ok(quote! {
            #[doc = #doc]
            #[repr(C)]
            #derives
            pub struct #name {
                #[doc(hidden)]
                pub _align: [#align_ty; 0],
                /// The union's bytes; read them through the accessors.
                pub bytes: [u8; #size],
            }
            #default
            impl #name { #accessors }
            const _: () = {
                ::core::assert!(::core::mem::size_of::<#name>() == #size);
                ::core::assert!(::core::mem::align_of::<#name>() == #align);
            };
        })
    }
}

/// Fields, assertions and accessors of a planned struct.
#[derive(Default)]
pub(crate) struct StructBody {
    pub fields: TokenStream,
    pub asserts: TokenStream,
    pub accessors: TokenStream,
}

/// A C enum as a newtype over its integer, so values the program did not
/// declare (a newer kernel's) stay representable.
fn emit_enum(name: &Ident, doc: &str, e: &Enum) -> TokenStream {
    let repr = int_type(e.size, e.signed, false);
    let consts = e.values.iter().map(|(variant, value)| {
        let ident = ident::field(variant);
        let value = int_literal(*value, e.size, e.signed);
        let doc = format!("`{variant}`");
        quote!(#[doc = #doc] pub const #ident: Self = Self(#value as #repr);)
    });
    let names = e.values.iter().map(|(variant, value)| {
        let value = int_literal(*value, e.size, e.signed);
        quote!((#value as #repr, #variant))
    });
    let size = e.size as usize;
    quote! {
        #[doc = #doc]
        #[repr(transparent)]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
            ::core::default::Default,
            ::ebpf_skeleton::zerocopy::FromBytes,
            ::ebpf_skeleton::zerocopy::IntoBytes,
            ::ebpf_skeleton::zerocopy::Immutable,
            ::ebpf_skeleton::zerocopy::KnownLayout,
        )]
        #[zerocopy(crate = "::ebpf_skeleton::zerocopy")]
        pub struct #name(pub #repr);
        #[allow(non_upper_case_globals)]
        impl #name {
            #(#consts)*
            /// The C name of this value, if the object declares it.
            pub fn name(self) -> ::core::option::Option<&'static str> {
                const NAMES: &[(#repr, &str)] = &[#(#names),*];
                NAMES.iter().find(|(v, _)| *v == self.0).map(|(_, n)| *n)
            }
        }
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    ::core::option::Option::Some(n) => f.write_str(n),
                    ::core::option::Option::None => ::core::write!(f, "{}({})", ::core::stringify!(#name), self.0),
                }
            }
        }
        const _: () = ::core::assert!(::core::mem::size_of::<#name>() == #size);
    }
}

/// An enum value as a literal of the enum's width (unsigned values above
/// the signed range are written as their two's complement bits).
fn int_literal(value: i128, size: u32, signed: bool) -> Literal {
    let bits = size * 8;
    if signed {
        Literal::i128_unsuffixed(value)
    } else {
        let mask = if bits >= 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        Literal::u128_unsuffixed(value as u128 & mask)
    }
}

fn c_doc(name: &str, kind: &Kind) -> String {
    let what = match kind {
        Kind::Struct(_) => "struct",
        Kind::Union(_) => "union",
        Kind::Enum(_) => "enum",
        Kind::Typedef(_) => "typedef",
        _ => "type",
    };
    if name.is_empty() {
        format!("An anonymous C {what} of the object (layout checked at compile time).")
    } else {
        format!("The C {what} `{name}` of the object (layout checked at compile time).")
    }
}
