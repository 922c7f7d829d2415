//! The arguments of `ebpf_skeleton!`.

use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// `ebpf_skeleton!("path/to/prog.bpf.o")`
pub struct SkeletonArgs {
    /// The object's path, as written (relative to the invoking file).
    pub path: LitStr,
}

impl Parse for SkeletonArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(USAGE));
        }
        let path: LitStr = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), USAGE))?;
        if path.value().is_empty() {
            return Err(syn::Error::new(path.span(), "the object path is empty"));
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            return Err(input.error(format!("unexpected argument; {USAGE}")));
        }
        Ok(SkeletonArgs { path })
    }
}

const USAGE: &str = "expected the path of a compiled eBPF object as a string literal, \
                     e.g. `ebpf_skeleton!(\"bpf/prog.bpf.o\")`";
