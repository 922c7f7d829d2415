//! The arguments of `ebpf_skeleton!`.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Ident, LitStr, Token};

/// `ebpf_skeleton!("path/to/prog.bpf.o", types = [event, flow_key])`
pub struct SkeletonArgs {
    /// The object's path, as written (relative to the invoking file).
    pub path: LitStr,
    /// C types to generate beyond those maps and globals reach.
    pub types: Vec<Ident>,
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
        let mut args = SkeletonArgs {
            path,
            types: Vec::new(),
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            args.parse_option(input)?;
        }
        Ok(args)
    }
}

impl SkeletonArgs {
    fn parse_option(&mut self, input: ParseStream<'_>) -> syn::Result<()> {
        let key: Ident = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), format!("unexpected argument; {OPTIONS}")))?;
        if key != "types" {
            return Err(syn::Error::new(
                key.span(),
                format!("unknown argument `{key}`; {OPTIONS}"),
            ));
        }
        if !self.types.is_empty() {
            return Err(syn::Error::new(key.span(), "`types` is given twice"));
        }
        input.parse::<Token![=]>()?;
        let list;
        bracketed!(list in input);
        let names = Punctuated::<Ident, Token![,]>::parse_terminated(&list)?;
        self.types = names.into_iter().collect();
        Ok(())
    }
}

const USAGE: &str = "expected the path of a compiled eBPF object as a string literal, \
                     e.g. `ebpf_skeleton!(\"bpf/prog.bpf.o\")`";

const OPTIONS: &str = "after the path, the only option is `types = [c_type_name, ...]`";
