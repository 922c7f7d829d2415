//! Procedural macros of ebpf-skeleton; use them through the `ebpf-skeleton`
//! crate, which re-exports them.
//!
//! Stages are kept apart (private modules): `args` parses what the user
//! wrote, `locate` finds and reads the object file, `elf` reads the object
//! into the `model`, `check` validates the whole model into a `plan` (every
//! error into one `ctxt`, each at its span), and only then `expand` writes
//! tokens, which cannot fail. Every error becomes a `compile_error!`;
//! nothing here panics on bad input.

mod args;
mod asm;
mod btf;
mod check;
mod ctxt;
mod derive;
mod elf;
mod expand;
mod ident;
mod krate;
mod layout_attr;
mod locate;
mod map_kinds;
mod model;
mod plan;
mod pod_derive;
mod types;

use proc_macro::TokenStream;

/// Expands a compiled eBPF object into a typed module.
///
/// `ebpf_skeleton!("bpf/prog.bpf.o")` reads the object at compile time (the
/// path is relative to the file that invokes the macro, as with
/// `include_bytes!`) and expands into `pub mod prog { ... }` with `Specs`,
/// `Objects`, `ProgramSpecs`, `Programs`, `MapSpecs` and `Maps`. The object's
/// bytes are embedded, so the binary needs no file at run time, and cargo
/// rebuilds the crate when the object changes.
#[proc_macro]
pub fn ebpf_skeleton(input: TokenStream) -> TokenStream {
    let invoked_from = proc_macro::Span::call_site().local_file();
    skeleton(input.into(), invoked_from)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Loads the programs, maps and data sections a struct names, and only
/// those, from a compiled eBPF object; every name, kind and key or value
/// size is checked at compile time.
///
/// ```no_run
/// use ebpf_skeleton::{Program, RingBuf};
///
/// #[derive(ebpf_skeleton::Objects)]
/// # /* The path as users write it, relative to the invoking file; this
/// #    doctest reads the repository's copy of the object instead.
/// #[ebpf(object = "bpf/execsnoop.bpf.o")]
/// # */
/// # #[ebpf(object = "../../examples/execsnoop/bpf/execsnoop.bpf.o")]
/// struct Tracer {
///     handle_exec: Program,
///     #[ebpf(name = "events")]
///     ring: RingBuf,
/// }
///
/// # fn main() -> ebpf_skeleton::Result<()> {
/// let tracer = Tracer::load()?;
/// # Ok(())
/// # }
/// ```
#[proc_macro_derive(Objects, attributes(ebpf))]
pub fn derive_objects(input: TokenStream) -> TokenStream {
    let invoked_from = proc_macro::Span::call_site().local_file();
    syn::parse::<syn::DeriveInput>(input)
        .and_then(|input| derive::objects(input, invoked_from))
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Checks a `#[repr(C)]` struct of your own against a struct of the
/// object's BTF, member by member (names, offsets, sizes), and makes it the
/// runtime's `Pod` (asserting that it has no padding and only plain-data
/// fields); a mismatch is a compile error at the field that differs.
///
/// ```no_run
/// # /* The path as users write it, relative to the invoking file; this
/// #    doctest reads the repository's copy of the object instead.
/// #[ebpf_skeleton::layout(object = "bpf/execsnoop.bpf.o", btf = "event")]
/// # */
/// # #[ebpf_skeleton::layout(object = "../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Event { pid: u32, ppid: u32, uid: u32, comm: [u8; 16], filename: [u8; 256] }
/// # fn main() {}
/// ```
/// Makes a `#[repr(C)]` struct of your own the runtime's `Pod`, so that
/// maps, ring buffers and globals can hold it: every field must be `Pod`
/// and the fields must fill the struct (no padding), which is checked at
/// compile time. `#[ebpf(crate = "...")]` names a renamed runtime.
///
/// ```
/// #[derive(Clone, Copy, ebpf_skeleton::Pod)]
/// #[repr(C)]
/// struct Key { addr: [u8; 4], port: u16, _pad: [u8; 2] }
/// ```
#[proc_macro_derive(Pod, attributes(ebpf))]
pub fn derive_pod(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(pod_derive::pod)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

#[proc_macro_attribute]
pub fn layout(args: TokenStream, item: TokenStream) -> TokenStream {
    let invoked_from = proc_macro::Span::call_site().local_file();
    syn::parse::<syn::ItemStruct>(item)
        .and_then(|item| layout_attr::layout(args.into(), item, invoked_from))
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Assembles eBPF at compile time into `ebpf_skeleton::asm::Instructions`.
///
/// The input is the text form `Instructions` prints and parses (what
/// `llvm-objdump` prints): one instruction per line, or `;` between
/// instructions, labels as `name:`, maps by name as `map(name)`. Every
/// mistake (an unknown mnemonic, a jump to a missing label, an offset,
/// register or immediate out of range, an instruction the kernel rejects)
/// is a compile error at the tokens of its line.
///
/// ```
/// let program = ebpf_skeleton::asm! {
///     r0 = 0
///     r1 = map(counts) ll
///     if r2 == 0 goto out
///     call bpf_ktime_get_ns
///   out:
///     exit
/// };
/// assert_eq!(program.len(), 5);
/// assert_eq!(program.to_string().lines().nth(2), Some("if r2 == 0x0 goto out"));
/// ```
#[proc_macro]
pub fn asm(input: TokenStream) -> TokenStream {
    asm::asm(input.into()).into()
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
