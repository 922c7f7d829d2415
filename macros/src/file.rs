//! The skeleton of an object file outside a macro, for tools: the same
//! stages as `ebpf_skeleton!`, with the arguments given as values and the
//! errors as text.

use std::fmt;
use std::path::Path;

use proc_macro2::{Span, TokenStream};
use syn::LitStr;

use crate::args::SkeletonArgs;
use crate::ctxt::Ctxt;
use crate::{check, expand as write, krate, locate};

/// What `ebpf_skeleton!`'s options say, as values.
#[derive(Debug, Clone, Default)]
pub struct ExpandOptions {
    /// C types to generate beyond those maps and globals reach
    /// (`types = [...]`).
    pub types: Vec<String>,
    /// The runtime's path when the dependency is renamed (`crate = "..."`).
    pub krate: Option<String>,
    /// The module's name instead of the file's stem (`module = "..."`).
    pub module: Option<String>,
    /// The path `include_bytes!` embeds the object from, relative to the
    /// file the expansion is written to; the object's absolute path when
    /// `None`.
    pub embed: Option<String>,
}

/// Why an object could not be expanded: every message the macro would
/// have given as a compile error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// One line per error, in the order they were found.
    pub messages: Vec<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.messages.join("\n"))
    }
}

impl std::error::Error for Error {}

impl From<syn::Error> for Error {
    fn from(e: syn::Error) -> Self {
        Error {
            messages: e.into_iter().map(|e| e.to_string()).collect(),
        }
    }
}

/// The module `ebpf_skeleton!` would expand `object` into, as tokens
/// (`pub mod <name> { ... }`).
pub fn expand(object: &Path, options: &ExpandOptions) -> Result<TokenStream, Error> {
    let args = arguments(object, options)?;
    let krate = match &args.krate {
        Some(lit) => krate::parse(lit)?,
        None => krate::default(),
    };
    let (file, model) = locate::object(&args.path, None)?;
    let embedded = match &options.embed {
        Some(path) => Path::new(path).to_owned(),
        None => file.path.clone(),
    };
    let mut cx = Ctxt::default();
    let plan = check::skeleton(&mut cx, &model, &args, &embedded, krate);
    cx.finish()?;
    Ok(plan.map(|plan| write::skeleton(&plan)).unwrap_or_default())
}

/// The macro's arguments for `object` and `options`; the path is made
/// absolute, as there is no invoking file to be relative to.
pub(crate) fn arguments(object: &Path, options: &ExpandOptions) -> Result<SkeletonArgs, Error> {
    let path = std::path::absolute(object).unwrap_or_else(|_| object.to_owned());
    let span = Span::call_site();
    let types = options
        .types
        .iter()
        .map(|name| {
            syn::parse_str::<syn::Ident>(name).map_err(|_| Error {
                messages: vec![format!("`{name}` is not a C type name")],
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(SkeletonArgs {
        path: LitStr::new(&path.to_string_lossy(), span),
        types,
        krate: options.krate.as_deref().map(|k| LitStr::new(k, span)),
        module: options
            .module
            .as_deref()
            .map(|name| {
                syn::parse_str::<syn::Ident>(name).map_err(|_| Error {
                    messages: vec![format!("`{name}` is not a module name")],
                })
            })
            .transpose()?,
    })
}
