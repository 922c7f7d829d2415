//! Writing planned types as tokens. Nothing here fails: every decision was
//! made, and every error found, when the types were planned.
//!
//! Generated code is kept to what rustc must check: each type gets its
//! definition, the plain-data trait, `Clone`/`Copy`/`Default`/`PartialEq`
//! written out in one line each (equality compares bytes unless a float
//! lies inside), a derived `Debug`, and its bitfield or union accessors.
//! Layouts are asserted once per skeleton ([`Emitter::layout_check`]):
//! every field of a generated struct is followed by explicit padding up to
//! the next one, so a type has its BTF size exactly when no field moved.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::{BitAccessor, Body, Def, Enum, Field, Struct, Ty, TypeSet, Union, UnionMember};

/// Where a type is spelled: inside `types` or from the skeleton module.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Types,
    Skeleton,
}

/// Writes the types of one skeleton, naming the runtime as `krate`.
pub struct Emitter<'a> {
    pub set: &'a TypeSet,
    /// The path of the runtime crate (`::ebpf_skeleton` unless renamed).
    pub krate: &'a TokenStream,
}

impl Emitter<'_> {
    /// The Rust spelling of `ty`.
    pub fn ty(&self, ty: &Ty, scope: Scope) -> TokenStream {
        match ty {
            Ty::Scalar(name) => {
                let name = format_ident!("{}", name);
                quote!(#name)
            }
            Ty::Bytes(n) => {
                let n = *n as usize;
                quote!([u8; #n])
            }
            Ty::Array(elem, n) => {
                let elem = self.ty(elem, scope);
                let n = *n as usize;
                quote!([#elem; #n])
            }
            Ty::Bool => quote!(bool),
            Ty::Def(i) => {
                let name = &self.set.defs[*i].name;
                match scope {
                    Scope::Types => quote!(#name),
                    Scope::Skeleton => quote!(types::#name),
                }
            }
        }
    }

    /// Every generated type, for the `types` module.
    pub fn types(&self) -> TokenStream {
        self.set.defs.iter().map(|d| self.def(d)).collect()
    }

    fn def(&self, def: &Def) -> TokenStream {
        let name = &def.name;
        let doc = c_doc(def);
        match &def.body {
            Body::Struct(s) => self.struct_def(name, &doc, s),
            Body::Union(u) => self.union_def(name, &doc, u),
            Body::Enum(e) => self.enum_def(name, &doc, e),
            Body::Alias(target) => {
                let target = self.ty(target, Scope::Types);
                quote! { #[doc = #doc] pub type #name = #target; }
            }
        }
    }

    fn struct_def(&self, name: &Ident, doc: &str, s: &Struct) -> TokenStream {
        let repr = if s.packed {
            quote!(#[repr(C, packed)])
        } else {
            quote!(#[repr(C)])
        };
        let fields = self.fields(&s.fields, Scope::Types, &|t| t);
        let plain = self.plain_data(name, s.has_float);
        let float_eq = Self::float_eq(s.has_float);
        let pod = self.pod_impl(name);
        let accessors: TokenStream = s
            .fields
            .iter()
            .filter_map(|f| match f {
                Field::Bits {
                    index, accessors, ..
                } => {
                    let storage = format_ident!("_bitfield_{}", index);
                    Some(self.bit_accessors(&storage, accessors))
                }
                _ => None,
            })
            .collect();
        let accessors = (!accessors.is_empty()).then(|| quote!(impl #name { #accessors }));
        quote! {
            #[doc = #doc]
            #repr
            #float_eq
            #[derive(::core::fmt::Debug)]
            pub struct #name { #fields }
            #pod
            #plain
            #accessors
        }
    }

    /// The fields of a planned struct; `wrap` turns each field's type into
    /// what is stored (the plain type, or a volatile cell for
    /// kernel-shared memory).
    pub fn fields(
        &self,
        fields: &[Field],
        scope: Scope,
        wrap: &dyn Fn(TokenStream) -> TokenStream,
    ) -> TokenStream {
        fields
            .iter()
            .map(|f| match f {
                Field::Member {
                    ident,
                    c_name,
                    ty,
                    offset,
                } => {
                    let ty = wrap(self.ty(ty, scope));
                    let doc = if c_name.is_empty() {
                        format!("An anonymous member at byte {offset}.")
                    } else {
                        format!("`{c_name}`, at byte {offset}.")
                    };
                    quote!(#[doc = #doc] pub #ident: #ty,)
                }
                Field::Bits { index, size, .. } => {
                    let storage = format_ident!("_bitfield_{}", index);
                    let ty = wrap(bytes(*size));
                    // Public (but hidden) so `..Default::default()` works.
                    quote!(#[doc(hidden)] pub #storage: #ty,)
                }
                Field::Pad { index, size } => {
                    let pad = format_ident!("_pad_{}", index);
                    let ty = wrap(bytes(*size));
                    quote!(#[doc(hidden)] pub #pad: #ty,)
                }
            })
            .collect()
    }

    fn bit_accessors(&self, storage: &Ident, accessors: &[BitAccessor]) -> TokenStream {
        let krate = self.krate;
        accessors
            .iter()
            .map(|bf| {
                let getter = &bf.ident;
                let setter = format_ident!("set_{}", getter.to_string().trim_start_matches("r#"));
                let prim = format_ident!("{}", bf.prim);
                let (bit, width, signed) = (bf.bit, bf.width, bf.signed);
                let doc = format!(
                    "The bitfield `{}` ({width} bits at bit {bit} of `{storage}`).",
                    bf.c_name
                );
                let set_doc = format!(
                    "Sets the bitfield `{}`; bits above its width are dropped.",
                    bf.c_name
                );
                quote! {
                    #[doc = #doc]
                    pub fn #getter(&self) -> #prim {
                        #krate::__private::bitfield_get(&self.#storage, #bit, #width, #signed) as #prim
                    }
                    #[doc = #set_doc]
                    pub fn #setter(&mut self, value: #prim) {
                        #krate::__private::bitfield_set(&mut self.#storage, #bit, #width, value as u64)
                    }
                }
            })
            .collect()
    }

    fn union_def(&self, name: &Ident, doc: &str, u: &Union) -> TokenStream {
        let krate = self.krate;
        let size = u.size as usize;
        let align_ty = format_ident!("{}", super::int_name(u.align as u32, false).unwrap_or("u8"));
        let mut accessors = TokenStream::new();
        for m in &u.members {
            accessors.extend(match m {
                UnionMember::Bits(bf) => {
                    self.bit_accessors(&format_ident!("bytes"), std::slice::from_ref(bf))
                }
                UnionMember::Value { ident, c_name, ty } => {
                    let setter =
                        format_ident!("set_{}", ident.to_string().trim_start_matches("r#"));
                    let ty = self.ty(ty, Scope::Types);
                    let doc = format!("Reads the union as its member `{c_name}`.");
                    let set_doc = format!("Writes the member `{c_name}`.");
                    quote! {
                        #[doc = #doc]
                        pub fn #ident(&self) -> #ty {
                            #krate::__private::read_at(&self.bytes, 0)
                        }
                        #[doc = #set_doc]
                        pub fn #setter(&mut self, value: #ty) {
                            #krate::__private::write_at(&mut self.bytes, 0, &value)
                        }
                    }
                }
            });
        }
        // Its bytes compare as bytes, whatever its members.
        let plain = self.plain_data(name, false);
        let pod = self.pod_impl(name);
        quote! {
            #[doc = #doc]
            #[repr(C)]
            #[derive(::core::fmt::Debug)]
            pub struct #name {
                #[doc(hidden)]
                pub _align: [#align_ty; 0],
                /// The union's bytes; read them through the accessors.
                pub bytes: [u8; #size],
            }
            #pod
            #plain
            impl #name { #accessors }
        }
    }

    /// A C enum as a newtype over its integer, so values the program did
    /// not declare (a newer kernel's) stay representable.
    fn enum_def(&self, name: &Ident, doc: &str, e: &Enum) -> TokenStream {
        let krate = self.krate;
        let repr = format_ident!("{}", e.prim);
        let consts = e.values.iter().map(|(ident, c_name, value)| {
            let value = int_literal(*value, e.prim);
            let doc = format!("`{c_name}`");
            quote!(#[doc = #doc] pub const #ident: Self = Self(#value);)
        });
        let names = e.values.iter().map(|(_, c_name, value)| {
            let value = int_literal(*value, e.prim);
            quote!((#value, #c_name))
        });
        let pod = self.pod_impl(name);
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
            )]
            pub struct #name(pub #repr);
            #pod
            #[allow(non_upper_case_globals)]
            impl #name {
                #(#consts)*
                /// The C name of this value, if the object declares it.
                pub fn name(self) -> ::core::option::Option<&'static str> {
                    #krate::__private::enum_name(self.0, &[#(#names),*])
                }
            }
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #krate::__private::enum_debug(f, ::core::stringify!(#name), self.0, self.name())
                }
            }
        }
    }

    /// `Clone`, `Copy`, `Default` (all zeroes, which also covers arrays
    /// longer than 32) and, for a type without floats, `PartialEq`: equal
    /// exactly when the bytes are (there is no padding: it was planned).
    /// Floats compare by value (NaN is not itself, -0.0 is 0.0), so a type
    /// holding one derives `PartialEq` instead ([`Emitter::float_eq`]).
    pub fn plain_data(&self, name: &Ident, has_float: bool) -> TokenStream {
        let krate = self.krate;
        let eq = (!has_float).then(|| {
            quote! {
                impl ::core::cmp::PartialEq for #name {
                    fn eq(&self, other: &Self) -> bool {
                        #krate::__private::bytes_eq(self, other)
                    }
                }
            }
        });
        quote! {
            impl ::core::clone::Clone for #name {
                fn clone(&self) -> Self { *self }
            }
            impl ::core::marker::Copy for #name {}
            impl ::core::default::Default for #name {
                fn default() -> Self { #krate::__private::zeroed() }
            }
            #eq
        }
    }

    /// The derive that compares a type holding floats by value.
    pub fn float_eq(has_float: bool) -> Option<TokenStream> {
        has_float.then(|| quote!(#[derive(::core::cmp::PartialEq)]))
    }

    /// The runtime's plain-data trait, which map keys and values, records
    /// and globals need. Sound for every planned type: each field is a
    /// scalar, an array or a generated type (pointers are `u64`, `bool` is
    /// `u8`, enums are integer newtypes), and every gap is an explicit byte
    /// array, so there is no padding (the layout check proves the sizes).
    pub fn pod_impl(&self, name: &Ident) -> TokenStream {
        let krate = self.krate;
        quote!(unsafe impl #krate::Pod for #name {})
    }

    /// One assertion for a whole skeleton: each generated struct, union and
    /// enum has the size its plan gives it, which (every gap being padded
    /// explicitly) puts every field at its BTF offset. `extra` adds types of
    /// the skeleton module (data sections), with their sizes.
    pub fn layout_check(&self, extra: &[(TokenStream, u64)]) -> TokenStream {
        let krate = self.krate;
        let mut rows = Vec::new();
        for def in &self.set.defs {
            let size = match &def.body {
                Body::Struct(s) => s.size,
                Body::Union(u) => u.size,
                Body::Enum(e) => e.size,
                Body::Alias(_) => continue,
            };
            let name = &def.name;
            rows.push((quote!(types::#name), size));
        }
        rows.extend(extra.iter().cloned());
        let rows = rows.iter().map(|(ty, size)| {
            let message = format!(
                "the generated type `{}` is not laid out as the object's BTF says",
                ty.to_string().replace(' ', "")
            );
            let size = *size as usize;
            quote!((#message, ::core::mem::size_of::<#ty>(), #size))
        });
        quote! {
            const _: () = #krate::__private::check_layouts(&[#(#rows),*]);
        }
    }
}

fn bytes(size: u64) -> TokenStream {
    let size = size as usize;
    quote!([u8; #size])
}

/// An enum value as a literal of the enum's integer type (values outside
/// its range, which BTF cannot hold for a valid object, wrap).
fn int_literal(value: i128, prim: &str) -> Literal {
    match prim {
        "u8" => Literal::u8_suffixed(value as u8),
        "i8" => Literal::i8_suffixed(value as i8),
        "u16" => Literal::u16_suffixed(value as u16),
        "i16" => Literal::i16_suffixed(value as i16),
        "u32" => Literal::u32_suffixed(value as u32),
        "i32" => Literal::i32_suffixed(value as i32),
        "i64" => Literal::i64_suffixed(value as i64),
        _ => Literal::u64_suffixed(value as u64),
    }
}

fn c_doc(def: &Def) -> String {
    let what = match def.body {
        Body::Struct(_) => "struct",
        Body::Union(_) => "union",
        Body::Enum(_) => "enum",
        Body::Alias(_) => "typedef",
    };
    if def.c_name.is_empty() {
        format!("An anonymous C {what} of the object (layout checked at compile time).")
    } else {
        format!(
            "The C {what} `{}` of the object (layout checked at compile time).",
            def.c_name
        )
    }
}
