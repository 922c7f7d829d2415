//! `crate = "..."`: the path generated code names the runtime by, for a
//! dependency renamed in Cargo.toml (`ebpf = { package = "ebpf-skeleton" }`)
//! or a runtime re-exported by another crate.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

/// `::ebpf_skeleton`, the crate's own name.
pub fn default() -> TokenStream {
    quote!(::ebpf_skeleton)
}

/// The path `lit` gives: a bare name is a crate as Cargo.toml names it
/// (`"ebpf"` is `::ebpf`); a longer path must be absolute (`::a::b` or
/// `crate::a`), since a skeleton's items live in a module of their own.
pub fn parse(lit: &LitStr) -> syn::Result<TokenStream> {
    let path: syn::Path = lit.parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`{}` is not a path; expected e.g. `crate = \"ebpf\"`",
                lit.value()
            ),
        )
    })?;
    let first = &path.segments[0].ident;
    if path.leading_colon.is_some() || first == "crate" {
        Ok(quote!(#path))
    } else if path.segments.len() == 1 && path.segments[0].arguments.is_none() {
        Ok(quote!(::#path))
    } else {
        Err(syn::Error::new(
            lit.span(),
            format!(
                "`{}` is a relative path; write `::{}` or a path from `crate::`",
                lit.value(),
                lit.value()
            ),
        ))
    }
}

/// `krate` with every token at `span`, for an assertion whose error must
/// point at the user's code (the path is otherwise at the macro's call).
pub fn at(krate: &TokenStream, span: proc_macro2::Span) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    krate
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(g) = &tree {
                let mut group = Group::new(g.delimiter(), at(&g.stream(), span));
                group.set_span(span);
                tree = TokenTree::Group(group);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
