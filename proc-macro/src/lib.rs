//! Procedural macros of ebpf-skeleton; use them through the `ebpf-skeleton`
//! crate, which re-exports them.
//!
//! Each macro only asks rustc which file invoked it and hands its tokens to
//! `ebpf-skeleton-codegen`, the library that reads the object and writes
//! the skeleton (and that the command-line tool uses too).

use ebpf_skeleton_codegen as codegen;
use proc_macro::TokenStream;

/// Expands a compiled eBPF object into a typed module.
///
/// `ebpf_skeleton!("bpf/prog.bpf.o")` reads the object at compile time (the
/// path is relative to the file that invokes the macro, as with
/// `include_bytes!`) and expands into `pub mod prog { ... }` with `Specs`,
/// `Objects`, `ProgramSpecs`, `Programs`, `MapSpecs` and `Maps`. The object's
/// bytes are embedded, so the binary needs no file at run time, and cargo
/// rebuilds the crate when the object changes.
///
/// `ebpf_skeleton!("$OUT_DIR/prog.bpf.o")` takes the object from the
/// directory the crate's build script writes to, where
/// `ebpf_skeleton_build::Builder` compiles `prog.bpf.c`. The same path works
/// in `#[ebpf(object = "...")]` and `#[layout(object = "...")]`.
///
/// Options after the path: `types = [c_name, ...]` generates those C types
/// too, `module = "name"` names the module (for two objects named alike),
/// `crate = "ebpf"` names a renamed runtime dependency.
#[proc_macro]
pub fn ebpf_skeleton(input: TokenStream) -> TokenStream {
    codegen::skeleton_macro(input.into(), invoked_from()).into()
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
    codegen::derive_objects(input.into(), invoked_from()).into()
}

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
    codegen::derive_pod(input.into()).into()
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
#[proc_macro_attribute]
pub fn layout(args: TokenStream, item: TokenStream) -> TokenStream {
    codegen::layout(args.into(), item.into(), invoked_from()).into()
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
    codegen::asm(input.into()).into()
}

/// The file that invoked the macro, which object paths are relative to.
fn invoked_from() -> Option<std::path::PathBuf> {
    proc_macro::Span::call_site().local_file()
}
