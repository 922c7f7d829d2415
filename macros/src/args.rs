//! The arguments of `ebpf_skeleton!`.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Ident, LitStr, Token};

/// `ebpf_skeleton!("path/to/prog.bpf.o", types = [event, flow_key], crate = "ebpf",
/// module = "prog_v2")`
pub struct SkeletonArgs {
    /// The object's path, as written (relative to the invoking file).
    pub path: LitStr,
    /// C types to generate beyond those maps and globals reach.
    pub types: Vec<Ident>,
    /// The runtime's path, when the dependency is renamed.
    pub krate: Option<LitStr>,
    /// The module's name, when the file's stem will not do (two objects
    /// named alike, a name that is taken).
    pub module: Option<Ident>,
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
            krate: None,
            module: None,
        };
        let mut types_given = false;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key = Ident::parse_any(input).map_err(|e| {
                syn::Error::new(e.span(), format!("unexpected argument; {OPTIONS}"))
            })?;
            if key == "types" {
                if types_given {
                    return Err(syn::Error::new(key.span(), "`types` is given twice"));
                }
                types_given = true;
                input.parse::<Token![=]>()?;
                let list;
                bracketed!(list in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&list)?;
                args.types = names.into_iter().collect();
            } else if key == "module" {
                if args.module.is_some() {
                    return Err(syn::Error::new(key.span(), "`module` is given twice"));
                }
                input.parse::<Token![=]>()?;
                args.module = Some(module_name(&input.parse()?)?);
            } else if key == "crate" {
                if args.krate.is_some() {
                    return Err(syn::Error::new(key.span(), "`crate` is given twice"));
                }
                input.parse::<Token![=]>()?;
                args.krate = Some(input.parse()?);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown argument `{key}`; {OPTIONS}"),
                ));
            }
        }
        Ok(args)
    }
}

/// The module name `lit` gives: a Rust identifier.
fn module_name(lit: &LitStr) -> syn::Result<Ident> {
    let name = lit.value();
    match syn::parse_str::<Ident>(&name) {
        Ok(ident) => Ok(Ident::new(&ident.to_string(), lit.span())),
        Err(_) => Err(syn::Error::new(
            lit.span(),
            format!("`{name}` is not a module name; expected an identifier, e.g. `module = \"profile\"`"),
        )),
    }
}

const USAGE: &str = "expected the path of a compiled eBPF object as a string literal, \
                     e.g. `ebpf_skeleton!(\"bpf/prog.bpf.o\")`";

const OPTIONS: &str = "after the path, the options are `types = [c_type_name, ...]`, \
                       `module = \"module_name\"` and `crate = \"renamed_dependency\"`";
