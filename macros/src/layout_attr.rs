//! `#[layout(object = "...", btf = "name")]`: a user's own `#[repr(C)]`
//! struct, checked field by field against a BTF struct of the object, and
//! made the runtime's `Pod` (no padding and plain-data fields, asserted).

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, ItemStruct, LitStr};

use crate::btf::{Btf, Kind, Member};
use crate::ctxt::Ctxt;
use crate::{check, krate, locate};

struct Args {
    object: Option<LitStr>,
    btf: Option<LitStr>,
    krate: Option<LitStr>,
}

/// A field matched to its BTF member: where and how large it must be.
struct FieldCheck<'a> {
    ident: &'a syn::Ident,
    ty: &'a syn::Type,
    offset: usize,
    /// The member's size, when BTF gives one.
    size: Option<usize>,
}

fn parse_args(cx: &mut Ctxt, args: TokenStream) -> Args {
    let mut out = Args {
        object: None,
        btf: None,
        krate: None,
    };
    let parser = syn::meta::parser(|meta| {
        let slot = if meta.path.is_ident("object") {
            &mut out.object
        } else if meta.path.is_ident("btf") {
            &mut out.btf
        } else if meta.path.is_ident("crate") {
            &mut out.krate
        } else {
            return Err(meta.error(
                "unknown argument; expected `object = \"prog.bpf.o\"` and `btf = \"type_name\"` \
                 (and `crate = \"...\"` for a renamed dependency)",
            ));
        };
        let value: LitStr = meta.value()?.parse()?;
        if slot.is_some() {
            return Err(syn::Error::new(value.span(), "given twice"));
        }
        *slot = Some(value);
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.push(e);
    }
    out
}

pub fn layout(
    args: TokenStream,
    item: ItemStruct,
    invoked_from: Option<PathBuf>,
) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::default();
    let args = parse_args(&mut cx, args);
    let krate = match args.krate.as_ref().map(krate::parse).transpose() {
        Ok(krate) => krate.unwrap_or_else(krate::default),
        Err(e) => {
            cx.push(e);
            krate::default()
        }
    };
    if !item.attrs.iter().any(is_repr_c) {
        cx.error(
            item.ident.span(),
            "add `#[repr(C)]`: only a C layout can match the object's",
        );
    }
    let (Some(object_lit), Some(btf_lit)) = (args.object, args.btf) else {
        cx.error(
            Span::call_site(),
            "expected `#[layout(object = \"prog.bpf.o\", btf = \"type_name\")]`",
        );
        return cx.finish().map(|_| TokenStream::new());
    };
    let object = match locate::object(&object_lit, invoked_from.as_deref()) {
        Ok((_, object)) => object,
        Err(e) => return Err(cx.fail(e)),
    };
    let Some(btf) = &object.btf else {
        return Err(cx.fail(syn::Error::new(
            object_lit.span(),
            format!(
                "`{}` has no BTF (build it with `clang -g`)",
                object_lit.value()
            ),
        )));
    };
    let Some((size, members)) = find_struct(btf, &btf_lit.value()) else {
        let names = btf
            .types
            .iter()
            .filter(|t| matches!(t.kind, Kind::Struct(_) | Kind::Union(_)))
            .map(|t| t.name.as_str());
        let hint = check::nearest(&btf_lit.value(), names)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_else(|| check::not_in_btf_help(&btf_lit.value()));
        cx.error(
            btf_lit.span(),
            format!(
                "`{}` has no struct named `{}` in its BTF{hint}",
                object_lit.value(),
                btf_lit.value()
            ),
        );
        return cx.finish().map(|_| TokenStream::new());
    };
    let checks = check_fields(&mut cx, btf, &item, &btf_lit.value(), &members);
    cx.finish()?;
    Ok(expand(&krate, &item, size as usize, &checks))
}

/// The struct with its byte-conversion traits, and the assertions that
/// its size and every matched field's offset and size are the BTF's.
fn expand(
    krate: &TokenStream,
    item: &ItemStruct,
    size: usize,
    checks: &[FieldCheck<'_>],
) -> TokenStream {
    let ident = &item.ident;
    let spanned = krate::at(krate, ident.span());
    let mut asserts = quote_spanned! {ident.span()=>
        #spanned::__private::same_size::<#spanned::__private::BtfStructBytes<#size>, { ::core::mem::size_of::<Self_>() }>();
    };
    for field in &item.fields {
        let ty = &field.ty;
        let at = krate::at(krate, ty.span());
        asserts.extend(quote_spanned!(ty.span()=> #at::__private::assert_pod::<#ty>();));
    }
    let sizes = item.fields.iter().map(|f| {
        let ty = &f.ty;
        quote!(::core::mem::size_of::<#ty>())
    });
    let padding = format!(
        "`{ident}` has padding between or after its fields: spell it out as `_pad: [u8; N]` fields"
    );
    asserts.extend(quote_spanned! {ident.span()=>
        ::core::assert!(::core::mem::size_of::<Self_>() == 0 #(+ #sizes)*, #padding);
    });
    for check in checks {
        let (ident, ty, offset) = (check.ident, check.ty, check.offset);
        let at = krate::at(krate, ident.span());
        asserts.extend(quote_spanned! {ident.span()=>
            #at::__private::same_offset::<#at::__private::BtfOffset<#offset>, { ::core::mem::offset_of!(Self_, #ident) }>();
        });
        if let Some(size) = check.size {
            let at = krate::at(krate, ty.span());
            asserts.extend(quote_spanned! {ty.span()=>
                #at::__private::same_size::<#at::__private::BtfValueBytes<#size>, { ::core::mem::size_of::<#ty>() }>();
            });
        }
    }
    quote! {
        #item
        // SAFETY: asserted below: every field is `Pod`, and the fields fill
        // the struct, so it has no padding and any bytes are a value.
        unsafe impl #krate::Pod for #ident {}
        const _: () = {
            type Self_ = #ident;
            #asserts
        };
    }
}

fn is_repr_c(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("repr")
        && attr
            .parse_nested_meta(|meta| {
                if meta.path.is_ident("C") {
                    Err(meta.error("found"))
                } else {
                    Ok(())
                }
            })
            .is_err()
}

/// The struct (or typedef of one) named `name`: its size and members.
fn find_struct(btf: &Btf, name: &str) -> Option<(u32, Vec<Member>)> {
    let id = btf
        .types
        .iter()
        .position(|t| t.name == name && matches!(t.kind, Kind::Struct(_) | Kind::Typedef(_)))?;
    match &btf
        .types
        .get(btf.skip_aliases(id as u32).ok()? as usize)?
        .kind
    {
        Kind::Struct(c) => Some((c.size, c.members.clone())),
        _ => None,
    }
}

/// Matches fields to members by name; returns what to assert of each
/// field that matches.
fn check_fields<'a>(
    cx: &mut Ctxt,
    btf: &Btf,
    item: &'a ItemStruct,
    c_name: &str,
    members: &[Member],
) -> Vec<FieldCheck<'a>> {
    let Fields::Named(fields) = &item.fields else {
        cx.error(item.ident.span(), "expected a struct with named fields");
        return Vec::new();
    };
    let mut checks = Vec::new();
    let mut matched = Vec::new();
    for field in &fields.named {
        let Some(ident) = &field.ident else { continue };
        let name = ident.to_string().trim_start_matches("r#").to_owned();
        if name.starts_with('_') {
            continue; // padding the user spelled out
        }
        let Some(member) = members.iter().find(|m| m.name == name) else {
            let hint = check::nearest(&name, members.iter().map(|m| m.name.as_str()))
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            cx.error(
                ident.span(),
                format!("the BTF struct `{c_name}` has no member `{name}`{hint}"),
            );
            continue;
        };
        matched.push(name.clone());
        if member.bitfield_size > 0 || !member.bit_offset.is_multiple_of(8) {
            cx.error(ident.span(), format!("`{name}` is a bitfield in `{c_name}`: use the type `ebpf_skeleton!` generates, which has accessors for it"));
            continue;
        }
        checks.push(FieldCheck {
            ident,
            ty: &field.ty,
            offset: (member.bit_offset / 8) as usize,
            size: btf.size_of(member.ty).ok().map(|s| s as usize),
        });
    }
    let missing: Vec<&str> = members
        .iter()
        .filter(|m| !m.name.is_empty() && !matched.contains(&m.name))
        .map(|m| m.name.as_str())
        .collect();
    if !missing.is_empty() {
        cx.error(
            item.ident.span(),
            format!(
                "members of `{c_name}` missing from this struct: `{}`",
                missing.join("`, `")
            ),
        );
    }
    checks
}
