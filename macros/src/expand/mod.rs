//! Writing the skeleton module's tokens.
//!
//! Generated code only names fields and forwards to the runtime; every
//! decision (how to open, load, attach, map a section) lives in
//! `ebpf_skeleton` itself. [`maps`] types each map field, [`sections`]
//! writes each data section's structs. Nothing here fails: `check` planned
//! it all.

mod maps;
mod sections;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::plan::{SectionPlan, Skeleton};
use crate::types::emit::{Emitter, Scope};

/// `pub mod <name> { Specs, Objects, types, ... }`.
pub fn skeleton(sk: &Skeleton) -> TokenStream {
    let types = Emitter {
        set: &sk.types,
        krate: &sk.krate,
    };
    let krate = &sk.krate;
    let module = &sk.module;
    let name = &sk.name;
    let path = &sk.path;
    let module_doc = format!(
        "Skeleton of the eBPF object `{name}`: {} program(s), {} map(s), {} struct_ops map(s), {} data section(s).",
        sk.programs.len(),
        sk.maps.len(),
        sk.struct_ops.len(),
        sk.sections.len()
    );
    let kernel_doc = sk.kernel_doc.iter();
    let type_items = types.types();
    let mut layout_rows = Vec::new();
    for s in &sk.sections {
        layout_rows.extend(sections::layout_rows(s));
    }
    let layout_check = types.layout_check(&layout_rows);
    let prog_names: Vec<&str> = sk.programs.iter().map(|p| p.name.as_str()).collect();
    let prog_idents: Vec<&Ident> = sk.programs.iter().map(|p| &p.ident).collect();
    let prog_docs: Vec<String> = sk
        .programs
        .iter()
        .map(|p| format!("The program `{}` (section `{}`).", p.name, p.section))
        .collect();
    // Fields are built into locals first, then moved into their structs:
    // a struct literal whose fields each end in `?` makes rustc's MIR hold a
    // drop path per field for every earlier field, and with hundreds of
    // programs and maps that was most of a skeleton's check memory.
    let prog_locals = locals("program", sk.programs.iter().map(|p| &p.ident));
    let map_locals = locals("map", sk.maps.iter().map(|m| &m.ident));
    let map_names: Vec<&str> = sk.maps.iter().map(|m| m.name.as_str()).collect();
    let map_idents: Vec<&Ident> = sk.maps.iter().map(|m| &m.ident).collect();
    let map_types: Vec<TokenStream> = sk
        .maps
        .iter()
        .map(|m| maps::field_type(&types, m))
        .collect();
    let map_docs: Vec<String> = sk.maps.iter().map(maps::doc).collect();
    let map_values: Vec<TokenStream> = sk
        .maps
        .iter()
        .map(|m| {
            let name = &m.name;
            if m.typed.is_some() {
                quote!(::core::convert::TryFrom::try_from(loaded.map(#name)?)?)
            } else {
                quote!(loaded.map(#name)?)
            }
        })
        .collect();
    // `.kconfig` is filled in by libbpf at load: it has no settings.
    let settable: Vec<&SectionPlan> = sk
        .sections
        .iter()
        .filter(|s| s.section != ".kconfig")
        .collect();
    let set_names: Vec<&str> = settable.iter().map(|s| s.section.as_str()).collect();
    let set_fields: Vec<&Ident> = settable.iter().map(|s| &s.field).collect();
    let set_plain: Vec<&Ident> = settable.iter().map(|s| &s.plain).collect();
    let set_docs: Vec<String> = settable
        .iter()
        .map(|s| {
            format!(
                "The global variables of `{}` (boxed: a section may be far larger than a stack).",
                s.section
            )
        })
        .collect();
    let ops_names: Vec<&str> = sk.struct_ops.iter().map(|m| m.name.as_str()).collect();
    let ops_idents: Vec<&Ident> = sk.struct_ops.iter().map(|m| &m.ident).collect();
    let ops_locals = locals("struct_ops", ops_idents.iter().copied());
    // Unused (and so a warning in `expand`'s output) without struct_ops maps.
    let ops_binding = if ops_idents.is_empty() {
        quote!(_)
    } else {
        quote!(struct_ops)
    };
    let ops_types: Vec<TokenStream> = sk
        .struct_ops
        .iter()
        .map(|m| types.ty(&m.ty, Scope::Skeleton))
        .collect();
    let ops_data_docs: Vec<String> = sk
        .struct_ops
        .iter()
        .map(|m| {
            format!(
                "The data of the struct_ops map `{}` (section `{}`), set before load; \
                 its pointer members (the callbacks) are libbpf's and stay as they are.",
                m.name, m.section
            )
        })
        .collect();
    let ops_docs: Vec<String> = sk
        .struct_ops
        .iter()
        .map(|m| {
            format!(
                "The struct_ops map `{}` (section `{}`), to register.",
                m.name, m.section
            )
        })
        .collect();
    let sec_names: Vec<&str> = sk.sections.iter().map(|s| s.section.as_str()).collect();
    let sec_fields: Vec<&Ident> = sk.sections.iter().map(|s| &s.field).collect();
    let sec_views: Vec<&Ident> = sk.sections.iter().map(|s| &s.view).collect();
    let sec_items = sk.sections.iter().map(|s| sections::items(&types, s));
    let sec_docs: Vec<String> = sk
        .sections
        .iter()
        .map(|s| format!("The global variables of `{}`.", s.section))
        .collect();

    quote! {
        #[doc = #module_doc]
        #( #[doc = ""] #[doc = #kernel_doc] )*
        #[allow(clippy::all, dead_code, non_camel_case_types, non_snake_case, unused_imports)]
        pub mod #module {
            use #krate as __ebs;

            static OBJECT: &__ebs::__private::Aligned<[u8]> =
                &__ebs::__private::Aligned(*::core::include_bytes!(#path));

            /// The object's name.
            pub const NAME: &str = #name;

            /// The object's bytes, as embedded at compile time.
            pub fn bytes() -> &'static [u8] {
                &OBJECT.0
            }

            /// The object's C types, with layouts checked against its BTF.
            pub mod types {
                #type_items
            }

            #layout_check

            #(#sec_items)*

            /// The object parsed, nothing in the kernel yet: set what must be
            /// decided before load, then [`Specs::load`].
            #[derive(::core::fmt::Debug)]
            pub struct Specs {
                /// The programs' settings.
                pub programs: ProgramSpecs,
                /// The maps' settings.
                pub maps: MapSpecs,
                /// The data of each struct_ops map.
                pub struct_ops: StructOpsSpecs,
                #( #[doc = #set_docs] pub #set_fields: __ebs::__private::Box<#set_plain>, )*
                object: __ebs::OpenObject,
            }

            /// Settings of each program before load.
            #[derive(::core::fmt::Debug, ::core::clone::Clone)]
            pub struct ProgramSpecs {
                #( #[doc = #prog_docs] pub #prog_idents: __ebs::ProgramSpec, )*
            }

            /// Settings of each map before load.
            #[derive(::core::fmt::Debug, ::core::clone::Clone)]
            pub struct MapSpecs {
                #( #[doc = #map_docs] pub #map_idents: __ebs::MapSpec, )*
            }

            /// The data of each struct_ops map before load.
            #[derive(::core::fmt::Debug, ::core::clone::Clone)]
            pub struct StructOpsSpecs {
                #( #[doc = #ops_data_docs] pub #ops_idents: #ops_types, )*
            }

            /// The object loaded into the kernel.
            #[derive(::core::fmt::Debug)]
            pub struct Objects {
                /// The programs.
                pub programs: Programs,
                /// The maps.
                pub maps: Maps,
                /// The struct_ops maps, each registered on its own or by
                /// [`Objects::attach`].
                pub struct_ops: StructOpsMaps,
                #( #[doc = #sec_docs] pub #sec_fields: __ebs::Section<#sec_views>, )*
            }

            /// Each program of the loaded object.
            #[derive(::core::fmt::Debug, ::core::clone::Clone)]
            pub struct Programs {
                #( #[doc = #prog_docs] pub #prog_idents: __ebs::Program, )*
            }

            /// Each map of the loaded object.
            #[derive(::core::fmt::Debug)]
            pub struct Maps {
                #( #[doc = #map_docs] pub #map_idents: #map_types, )*
            }

            /// Each struct_ops map of the loaded object.
            #[derive(::core::fmt::Debug)]
            pub struct StructOpsMaps {
                #( #[doc = #ops_docs] pub #ops_idents: __ebs::StructOps, )*
            }

            impl Specs {
                /// Opens the embedded object; needs no privileges.
                pub fn new() -> __ebs::Result<Self> {
                    Self::new_with(&__ebs::OpenOptions::new())
                }

                /// Opens the embedded object as `options` say (a pin root, a
                /// kernel BTF, a kernel config).
                pub fn new_with(options: &__ebs::OpenOptions) -> __ebs::Result<Self> {
                    let object = __ebs::OpenObject::from_static_with(NAME, bytes(), options)?;
                    #( let #prog_locals = object.program_spec(#prog_names)?; )*
                    #( let #map_locals = object.map_spec(#map_names)?; )*
                    #( let #ops_locals = object.struct_ops_data(#ops_names)?; )*
                    #( let #set_fields = object.section_data_boxed(#set_names)?; )*
                    ::core::result::Result::Ok(Specs {
                        programs: ProgramSpecs { #( #prog_idents: #prog_locals, )* },
                        maps: MapSpecs { #( #map_idents: #map_locals, )* },
                        struct_ops: StructOpsSpecs { #( #ops_idents: #ops_locals, )* },
                        #( #set_fields, )*
                        object,
                    })
                }

                /// The kernel version the object declares
                /// (`LINUX_VERSION_CODE`): its `version` section's, or the
                /// running kernel's as libbpf reads it at open.
                pub fn kernel_version(&self) -> u32 {
                    self.object.kernel_version()
                }

                /// Sets the kernel version the object declares, passed with
                /// each program at load: kernels before 5.0 refuse a kprobe
                /// program whose version is not theirs; later kernels
                /// ignore it.
                pub fn set_kernel_version(&mut self, version: u32) -> __ebs::Result<()> {
                    self.object.set_kernel_version(version)
                }

                /// Applies the settings and loads the object into the kernel.
                pub fn load(self) -> __ebs::Result<Objects> {
                    let Specs { programs, maps, struct_ops: #ops_binding, mut object, #(#set_fields),* } = self;
                    #( object.apply_program(&programs.#prog_idents)?; )*
                    #( object.apply_map(&maps.#map_idents)?; )*
                    #( object.set_struct_ops_data(#ops_names, &struct_ops.#ops_idents)?; )*
                    #( object.set_section_data(#set_names, &*#set_fields)?; )*
                    let loaded = object.load()?;
                    #( let #prog_locals = loaded.program(#prog_names)?; )*
                    #( let #map_locals = #map_values; )*
                    #( let #ops_locals = loaded.struct_ops(#ops_names)?; )*
                    #( let #sec_fields = loaded.section(#sec_names)?; )*
                    ::core::result::Result::Ok(Objects {
                        programs: Programs { #( #prog_idents: #prog_locals, )* },
                        maps: Maps { #( #map_idents: #map_locals, )* },
                        struct_ops: StructOpsMaps { #( #ops_idents: #ops_locals, )* },
                        #( #sec_fields, )*
                    })
                }
            }

            impl Objects {
                /// Opens and loads the object with its default settings.
                pub fn load() -> __ebs::Result<Self> {
                    Specs::new()?.load()
                }

                /// Attaches every loaded program whose section names its
                /// hook (programs that need a target from the caller, `xdp`,
                /// `tc`, `socket`, a bare `uprobe`, ..., are skipped), then
                /// registers every struct_ops map created and set to
                /// autoattach.
                pub fn attach(&self) -> __ebs::Result<__ebs::Links> {
                    __ebs::attach_skeleton(
                        &[ #( &self.programs.#prog_idents ),* ],
                        &[ #( &self.struct_ops.#ops_idents ),* ],
                    )
                }
            }
        }
    }
}

/// Names of locals holding fields of one group (`program_x`, `map_x`):
/// prefixed, as a program and a map may share a name (`{}` of an ident
/// drops its `r#`).
fn locals<'a>(group: &str, idents: impl Iterator<Item = &'a Ident>) -> Vec<Ident> {
    idents
        .map(|i| quote::format_ident!("{}_{}", group, i))
        .collect()
}
