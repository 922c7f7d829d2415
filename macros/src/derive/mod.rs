//! `#[derive(Objects)]`: a user struct naming part of an object, loaded
//! with only that part, every name and type checked at compile time.

mod attr;
mod field;

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::ctxt::Ctxt;
use crate::map_kinds;
use crate::model::Object;
use crate::{check, krate, locate};
use field::Want;

/// One checked field: how to fill it from the loaded object.
struct Resolved {
    ident: syn::Ident,
    fill: Fill,
}

/// Where a field's value comes from.
enum Fill {
    Program(String),
    /// A map, converted into the field's typed map unless it is a `Map`.
    Map {
        name: String,
        typed: bool,
    },
    Section(String),
    StructOps(String),
}

/// A key or value type whose size must be the BTF's, checked at compile
/// time (the type is the user's: only rustc knows its size).
struct SizeCheck {
    ty: Box<syn::Type>,
    size: u64,
    key: bool,
}

pub fn objects(input: DeriveInput, invoked_from: Option<PathBuf>) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::default();
    let container = attr::Container::parse(&mut cx, &input.attrs);
    let fields = match named_fields(&input) {
        Ok(fields) => fields,
        Err(e) => return Err(cx.fail(e)),
    };
    if !input.generics.params.is_empty() {
        cx.error(
            input.generics.span(),
            "`#[derive(Objects)]` does not take generic parameters",
        );
    }
    let krate = match container.krate.as_ref().map(krate::parse).transpose() {
        Ok(krate) => krate.unwrap_or_else(krate::default),
        Err(e) => {
            cx.push(e);
            krate::default()
        }
    };
    let Some(lit) = container.object else {
        cx.error(
            input.ident.span(),
            "name the object to load: `#[ebpf(object = \"prog.bpf.o\")]`",
        );
        return cx.finish().map(|_| TokenStream::new());
    };
    let (file, object) = match locate::object(&lit, invoked_from.as_deref()) {
        Ok(read) => read,
        Err(e) => return Err(cx.fail(e)),
    };

    let mut resolver = Resolver {
        cx,
        object: &object,
        lit: &lit,
        programs: Vec::new(),
        maps: Vec::new(),
        claimed: Vec::new(),
        sizes: Vec::new(),
    };
    let resolved: Vec<Resolved> = fields.iter().filter_map(|f| resolver.field(f)).collect();
    let Resolver {
        cx,
        programs,
        maps,
        sizes,
        ..
    } = resolver;
    // The sizes of the fields that resolved are checked even when others
    // did not, so that one build shows every mistake.
    if let Err(errors) = cx.finish() {
        let asserts = size_asserts(&krate, &sizes);
        let errors = errors.to_compile_error();
        return Ok(quote!(#errors #asserts));
    }
    Ok(expand(&Plan {
        name: &input.ident,
        krate,
        object: &object,
        path: &file.path,
        programs: &programs,
        maps: &keep_maps(&object, &programs, &maps),
        fields: &resolved,
        sizes: &sizes,
    }))
}

fn named_fields(input: &DeriveInput) -> syn::Result<Vec<syn::Field>> {
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Ok(named.named.iter().cloned().collect()),
            _ => Err(syn::Error::new(
                input.ident.span(),
                "`#[derive(Objects)]` needs a struct with named fields",
            )),
        },
        _ => Err(syn::Error::new(
            input.ident.span(),
            "`#[derive(Objects)]` needs a struct with named fields",
        )),
    }
}

struct Resolver<'a> {
    cx: Ctxt,
    object: &'a Object,
    lit: &'a LitStr,
    /// Programs the struct names.
    programs: Vec<String>,
    /// Maps the struct names.
    maps: Vec<String>,
    /// Every name a field took, with the field, to catch duplicates.
    claimed: Vec<(String, String)>,
    sizes: Vec<SizeCheck>,
}

impl Resolver<'_> {
    fn field(&mut self, f: &syn::Field) -> Option<Resolved> {
        let attrs = attr::Field::parse(&mut self.cx, &f.attrs)?;
        let ident = f.ident.clone()?;
        let field_name = ident.to_string().trim_start_matches("r#").to_owned();
        let (name, span) = match &attrs.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (field_name.clone(), ident.span()),
        };
        let Some(want) = field::want(&f.ty) else {
            self.cx.error(
                f.ty.span(),
                "unsupported field type: expected `Program`, a map type (`Map`, `HashMap`, `RingBuf`, ...), `StructOps` or `Section`",
            );
            return None;
        };
        if let Some((_, first)) = self.claimed.iter().find(|(n, _)| *n == name) {
            self.cx.error(span, format!("`{name}` is already loaded into field `{first}`; name each program or map once"));
            return None;
        }
        self.claimed.push((name.clone(), field_name));
        let fill = match want {
            Want::Program => self.program(&name, span)?,
            Want::Map {
                ty,
                kinds,
                key,
                value,
            } => self.map(&name, span, ty, kinds, key, value)?,
            Want::Section => self.section(&name, span)?,
            Want::StructOps => self.struct_ops(&name, span)?,
        };
        Some(Resolved { ident, fill })
    }

    fn program(&mut self, name: &str, span: Span) -> Option<Fill> {
        if self.object.programs.iter().any(|p| p.name == name) {
            self.programs.push(name.to_owned());
            return Some(Fill::Program(name.to_owned()));
        }
        let is_map = self.object.maps.iter().any(|m| m.name == name)
            || self.object.struct_ops.iter().any(|m| m.name == name);
        if is_map {
            self.cx.error(
                span,
                format!(
                    "`{name}` is a map in `{}`, but this field is a `Program`",
                    self.lit.value()
                ),
            );
        } else {
            self.missing(name, span);
        }
        None
    }

    fn map(
        &mut self,
        name: &str,
        span: Span,
        ty: &str,
        kinds: &[u32],
        key: Option<Box<syn::Type>>,
        value: Option<Box<syn::Type>>,
    ) -> Option<Fill> {
        let Some(map) = self.object.maps.iter().find(|m| m.name == name) else {
            if self.object.programs.iter().any(|p| p.name == name) {
                self.cx.error(
                    span,
                    format!(
                        "`{name}` is a program in `{}`, but this field is a `{ty}`",
                        self.lit.value()
                    ),
                );
            } else if self.object.struct_ops.iter().any(|m| m.name == name) {
                self.cx.error(
                    span,
                    format!(
                        "`{name}` is a struct_ops map in `{}`, not what a `{ty}` field holds; use `StructOps`",
                        self.lit.value()
                    ),
                );
            } else {
                self.missing(name, span);
            }
            return None;
        };
        let def = map.def.clone().unwrap_or_default();
        if let Some(kind) = def.kind.filter(|k| !kinds.is_empty() && !kinds.contains(k)) {
            let hint = map_kinds::for_kind(kind)
                .map(|t| t.name)
                .map(|t| format!("; use `{t}`"))
                .unwrap_or_default();
            self.cx.error(
                span,
                format!(
                    "`{name}` is a {} map in `{}`, not what a `{ty}` field holds{hint}",
                    map_kinds::kind_name(kind),
                    self.lit.value()
                ),
            );
            return None;
        }
        self.maps.push(name.to_owned());
        let btf = self.object.btf.as_ref();
        let key_size = def
            .key
            .and_then(|k| btf?.size_of(k).ok())
            .or(def.key_size.map(u64::from));
        let value_size = def
            .value
            .and_then(|v| btf?.size_of(v).ok())
            .or(def.value_size.map(u64::from));
        if let (Some(ty), Some(size)) = (key, key_size) {
            self.sizes.push(SizeCheck {
                ty,
                size,
                key: true,
            });
        }
        if let (Some(ty), Some(size)) = (value, value_size) {
            self.sizes.push(SizeCheck {
                ty,
                size,
                key: false,
            });
        }
        Some(Fill::Map {
            name: name.to_owned(),
            typed: ty != "Map",
        })
    }

    fn struct_ops(&mut self, name: &str, span: Span) -> Option<Fill> {
        if self.object.struct_ops.iter().any(|m| m.name == name) {
            self.maps.push(name.to_owned());
            return Some(Fill::StructOps(name.to_owned()));
        }
        let what = if self.object.programs.iter().any(|p| p.name == name) {
            Some("a program")
        } else if self.object.maps.iter().any(|m| m.name == name) {
            Some("a map of `.maps`")
        } else {
            None
        };
        match what {
            Some(what) => self.cx.error(
                span,
                format!(
                    "`{name}` is {what} in `{}`, but this field is a `StructOps`",
                    self.lit.value()
                ),
            ),
            None => self.missing(name, span),
        }
        None
    }

    fn section(&mut self, name: &str, span: Span) -> Option<Fill> {
        let section = if name.starts_with('.') {
            name.to_owned()
        } else {
            format!(".{name}")
        };
        if self.object.sections.iter().any(|s| s.name == section) {
            return Some(Fill::Section(section));
        }
        let names = self.object.sections.iter().map(|s| s.name.as_str());
        let hint = check::nearest(&section, names)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        self.cx.error(
            span,
            format!(
                "`{}` has no data section `{section}`{hint}",
                self.lit.value()
            ),
        );
        None
    }

    fn missing(&mut self, name: &str, span: Span) {
        let names = self
            .object
            .programs
            .iter()
            .map(|p| p.name.as_str())
            .chain(self.object.maps.iter().map(|m| m.name.as_str()))
            .chain(self.object.struct_ops.iter().map(|m| m.name.as_str()));
        let hint = check::nearest(name, names)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        self.cx.error(
            span,
            format!(
                "`{}` has no program or map named `{name}`{hint}",
                self.lit.value()
            ),
        );
    }
}

/// Asserts at compile time that a key or value type has the BTF's size;
/// the error names both sizes and points at the type.
fn size_assert(krate: &TokenStream, check: &SizeCheck) -> TokenStream {
    let size = check.size as usize;
    let marker = if check.key {
        quote!(BtfKeyBytes)
    } else {
        quote!(BtfValueBytes)
    };
    let ty = &check.ty;
    let krate = krate::at(krate, ty.span());
    quote_spanned! {ty.span()=>
        #krate::__private::same_size::<
            #krate::__private::#marker<#size>,
            { ::core::mem::size_of::<#ty>() },
        >();
    }
}

/// Maps to create: those named, those the named programs (and the
/// subprograms they may call) use, and the inner maps of maps of maps.
fn keep_maps(object: &Object, programs: &[String], named: &[String]) -> Vec<String> {
    let mut keep: Vec<String> = named.to_vec();
    for p in object
        .programs
        .iter()
        .filter(|p| programs.contains(&p.name))
    {
        keep.extend(p.maps.iter().cloned());
    }
    if !programs.is_empty() {
        keep.extend(object.text_maps.iter().cloned());
    }
    let mut i = 0;
    while i < keep.len() {
        if let Some(m) = object.maps.iter().find(|m| m.name == keep[i]) {
            keep.extend(m.inner.iter().cloned());
        }
        i += 1;
    }
    let mut seen = Vec::new();
    keep.retain(|m| {
        if seen.contains(m) {
            false
        } else {
            seen.push(m.clone());
            true
        }
    });
    keep
}

/// Everything the derive writes, checked.
struct Plan<'a> {
    name: &'a syn::Ident,
    krate: TokenStream,
    object: &'a Object,
    path: &'a std::path::Path,
    programs: &'a [String],
    maps: &'a [String],
    fields: &'a [Resolved],
    sizes: &'a [SizeCheck],
}

fn expand(plan: &Plan<'_>) -> TokenStream {
    let Plan {
        name,
        krate,
        object,
        path,
        programs,
        maps,
        fields,
        sizes,
    } = plan;
    let object_name = &object.name;
    let path = path.to_string_lossy();
    let idents = fields.iter().map(|f| &f.ident);
    let fills = fields.iter().map(|f| match &f.fill {
        Fill::Program(name) => quote!(loaded.program(#name)?),
        Fill::Map { name, typed: false } => quote!(loaded.map(#name)?),
        Fill::Map { name, typed: true } => {
            quote!(::core::convert::TryFrom::try_from(loaded.map(#name)?)?)
        }
        Fill::Section(name) => quote!(loaded.section(#name)?),
        Fill::StructOps(name) => quote!(loaded.struct_ops(#name)?),
    });
    let asserts = size_asserts(krate, sizes);
    let doc = format!("Loads the parts of `{object_name}` this struct names, and nothing else.");
    quote! {
        impl #name {
            #[doc = #doc]
            pub fn load() -> #krate::Result<Self> {
                Self::load_with(<#krate::LoadOptions as ::core::default::Default>::default())
            }

            #[doc = #doc]
            pub fn load_with(options: #krate::LoadOptions) -> #krate::Result<Self> {
                static OBJECT: &#krate::__private::Aligned<[u8]> =
                    &#krate::__private::Aligned(*::core::include_bytes!(#path));
                let mut object = options.open_static(#object_name, &OBJECT.0)?;
                object.retain(&[#(#programs),*], &[#(#maps),*])?;
                options.apply(&mut object)?;
                let loaded = object.load()?;
                ::core::result::Result::Ok(#name { #( #idents: #fills, )* })
            }
        }

        #asserts
    }
}

/// Every size check, in one constant.
fn size_asserts(krate: &TokenStream, sizes: &[SizeCheck]) -> TokenStream {
    let asserts = sizes.iter().map(|c| size_assert(krate, c));
    quote!(const _: () = { #(#asserts)* };)
}
