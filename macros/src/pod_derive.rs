//! `#[derive(Pod)]`: a user's own plain-data type, proven at compile time
//! to have no padding and only plain-data fields.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, LitStr};

use crate::ctxt::Ctxt;
use crate::krate;

pub fn pod(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::default();
    let krate = crate_path(&mut cx, &input.attrs);
    if !input.attrs.iter().any(is_repr_c_or_transparent) {
        cx.error(
            input.ident.span(),
            "add `#[repr(C)]` (or `#[repr(transparent)]`): the kernel sees the fields in order",
        );
    }
    if !input.generics.params.is_empty() {
        cx.error(
            input.generics.span(),
            "`#[derive(Pod)]` does not take generic parameters",
        );
    }
    let fields = match &input.data {
        Data::Struct(s) => s.fields.iter().collect::<Vec<_>>(),
        _ => {
            cx.error(
                input.ident.span(),
                "`#[derive(Pod)]` needs a struct: an enum or union has bytes that are not a value",
            );
            Vec::new()
        }
    };
    cx.finish()?;
    let name = &input.ident;
    let field_pod = fields.iter().map(|f| {
        let ty = &f.ty;
        let at = krate::at(&krate, ty.span());
        quote_spanned!(ty.span()=> #at::__private::assert_pod::<#ty>();)
    });
    let sizes = fields.iter().map(|f| {
        let ty = &f.ty;
        quote!(::core::mem::size_of::<#ty>())
    });
    let message = format!(
        "`{name}` has padding between or after its fields: add explicit `_pad: [u8; N]` fields so that every byte is a field"
    );
    Ok(quote! {
        // SAFETY: asserted below: every field is `Pod` and the fields fill
        // the struct, so it has no padding and any bytes are a value.
        unsafe impl #krate::Pod for #name {}
        const _: () = {
            #(#field_pod)*
            ::core::assert!(::core::mem::size_of::<#name>() == 0 #(+ #sizes)*, #message);
        };
    })
}

fn crate_path(cx: &mut Ctxt, attrs: &[syn::Attribute]) -> TokenStream {
    let mut krate = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("ebpf")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(krate::parse(&lit)?);
                Ok(())
            } else {
                Err(meta.error(
                    "on a `#[derive(Pod)]` type, only `#[ebpf(crate = \"...\")]` is expected",
                ))
            }
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    krate.unwrap_or_else(krate::default)
}

fn is_repr_c_or_transparent(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("repr")
        && attr
            .parse_nested_meta(|meta| {
                if meta.path.is_ident("C") || meta.path.is_ident("transparent") {
                    Err(meta.error("found"))
                } else {
                    Ok(())
                }
            })
            .is_err()
}
