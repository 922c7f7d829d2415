//! The code generation of ebpf-skeleton: reads a compiled eBPF object and
//! its BTF and writes the typed Rust of the skeleton, as tokens. The
//! procedural macros (`ebpf-skeleton-macros`, re-exported by
//! `ebpf-skeleton`) are thin wrappers over the functions here; the
//! command-line tool uses [`expand`] and [`info`] on object files.
//!
//! Stages are kept apart (private modules): `args` parses what the user
//! wrote, `locate` finds and reads the object file, `elf` reads the object
//! into the `model`, `check` validates the whole model into a `plan` (every
//! error into one `ctxt`, each at its span), and only then `expand` writes
//! tokens, which cannot fail. Every error becomes a `compile_error!` (or an
//! [`Error`] outside a macro); nothing here panics on bad input.

mod args;
mod asm;
mod btf;
mod check;
mod ctxt;
mod derive;
mod elf;
mod expand;
mod file;
mod ident;
mod info;
mod krate;
mod layout_attr;
mod locate;
mod map_kinds;
mod model;
mod plan;
mod pod_derive;
mod types;

use std::path::PathBuf;

use proc_macro2::TokenStream;

pub use file::{expand, Error, ExpandOptions};
pub use info::{info, Info, MapInfo, ProgramInfo, SectionInfo, TypeInfo, VariableInfo};

/// `ebpf_skeleton!(...)`: `input` is the macro's arguments, `invoked_from`
/// the file that invoked it (object paths are relative to its directory).
/// Errors are `compile_error!`s in the returned tokens.
pub fn skeleton_macro(input: TokenStream, invoked_from: Option<PathBuf>) -> TokenStream {
    skeleton(input, invoked_from).unwrap_or_else(|e| e.to_compile_error())
}

/// `#[derive(Objects)]` on the struct `input`; `invoked_from` as for
/// [`skeleton_macro`].
pub fn derive_objects(input: TokenStream, invoked_from: Option<PathBuf>) -> TokenStream {
    syn::parse2::<syn::DeriveInput>(input)
        .and_then(|input| derive::objects(input, invoked_from))
        .unwrap_or_else(|e| e.to_compile_error())
}

/// `#[derive(Pod)]` on the type `input`.
pub fn derive_pod(input: TokenStream) -> TokenStream {
    syn::parse2::<syn::DeriveInput>(input)
        .and_then(pod_derive::pod)
        .unwrap_or_else(|e| e.to_compile_error())
}

/// `#[layout(args)]` on the struct `item`; `invoked_from` as for
/// [`skeleton_macro`].
pub fn layout(args: TokenStream, item: TokenStream, invoked_from: Option<PathBuf>) -> TokenStream {
    syn::parse2::<syn::ItemStruct>(item)
        .and_then(|item| layout_attr::layout(args, item, invoked_from))
        .unwrap_or_else(|e| e.to_compile_error())
}

/// `asm! { ... }`: the program the text assembles to, or its errors.
pub fn asm(input: TokenStream) -> TokenStream {
    asm::asm(input)
}

fn skeleton(
    input: proc_macro2::TokenStream,
    invoked_from: Option<std::path::PathBuf>,
) -> syn::Result<proc_macro2::TokenStream> {
    let args: args::SkeletonArgs = syn::parse2(input)?;
    let krate = args
        .krate
        .as_ref()
        .map(krate::parse)
        .transpose()?
        .unwrap_or_else(krate::default);
    let (file, object) = locate::object(&args.path, invoked_from.as_deref())?;
    let mut cx = ctxt::Ctxt::default();
    let plan = check::skeleton(&mut cx, &object, &args, &file.path, krate);
    cx.finish()?;
    Ok(plan.map(|plan| expand::skeleton(&plan)).unwrap_or_default())
}

#[cfg(test)]
mod fuzz_tests;
