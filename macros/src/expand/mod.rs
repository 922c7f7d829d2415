//! Writing the skeleton module's tokens.
//!
//! Generated code only names fields and forwards to the runtime; every
//! decision (how to open, load, attach, map a section) lives in
//! `ebpf_skeleton` itself. [`maps`] types each map field, [`sections`]
//! writes each data section's structs.

mod maps;
mod sections;

use std::path::Path;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::btf::{Btf, Kind};
use crate::ident;
use crate::model::Object;
use crate::types::TypeGen;
use maps::{map_field, MapField};
use sections::{section, SectionField};

/// Everything expansion needs besides the model.
pub struct Request<'a> {
    pub path: &'a Path,
    /// C type names the user asked for, with their spans.
    pub types: &'a [syn::Ident],
}

/// `pub mod <name> { Specs, Objects, types, ... }`.
pub fn skeleton(
    object: &Object,
    request: &Request<'_>,
) -> Result<TokenStream, Vec<(Span, String)>> {
    let empty = Btf { types: Vec::new() };
    let mut gen = TypeGen::new(object.btf.as_ref().unwrap_or(&empty));
    let mut errors = Vec::new();

    for wanted in request.types {
        if let Err(e) = requested_type(&mut gen, wanted) {
            errors.push((wanted.span(), e));
        }
    }
    let maps: Vec<MapField> = object
        .maps
        .iter()
        .map(|m| {
            map_field(&mut gen, m).unwrap_or_else(|e| {
                errors.push((Span::call_site(), format!("map `{}`: {e}", m.name)));
                MapField::untyped(m)
            })
        })
        .collect();
    let sections: Vec<SectionField> = object
        .sections
        .iter()
        .filter_map(|s| {
            section(&mut gen, s)
                .map_err(|e| errors.push((Span::call_site(), format!("section `{}`: {e}", s.name))))
                .ok()
        })
        .collect();
    let types = gen.finish().unwrap_or_else(|e| {
        errors.push((Span::call_site(), e));
        TokenStream::new()
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(module(object, request.path, &types, &maps, &sections))
}

fn requested_type(gen: &mut TypeGen<'_>, wanted: &syn::Ident) -> Result<(), String> {
    let name = wanted.to_string();
    let btf = gen.btf();
    let id = btf.find_named(&name).ok_or_else(|| {
        let mut msg =
            format!("the object's BTF has no struct, union, enum or typedef named `{name}`");
        if let Some(near) = crate::check::nearest(
            &name,
            btf.types
                .iter()
                .filter(|t| is_nameable(&t.kind))
                .map(|t| t.name.as_str()),
        ) {
            msg.push_str(&format!("; did you mean `{near}`?"));
        }
        msg
    })?;
    gen.request(id).map(drop)
}

fn is_nameable(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) | Kind::Typedef(_)
    )
}

fn module(
    object: &Object,
    path: &Path,
    types: &TokenStream,
    maps: &[MapField],
    sections: &[SectionField],
) -> TokenStream {
    let module = ident::field(&object.name);
    let name = &object.name;
    let path = path.to_string_lossy();
    let module_doc = format!(
        "Skeleton of the eBPF object `{name}`: {} program(s), {} map(s), {} data section(s).",
        object.programs.len(),
        object.maps.len(),
        sections.len()
    );
    let prog_names: Vec<&str> = object.programs.iter().map(|p| p.name.as_str()).collect();
    let prog_idents: Vec<Ident> = object
        .programs
        .iter()
        .map(|p| ident::field(&p.name))
        .collect();
    let prog_docs: Vec<String> = object
        .programs
        .iter()
        .map(|p| format!("The program `{}` (section `{}`).", p.name, p.section))
        .collect();
    let map_names: Vec<&str> = maps.iter().map(|m| m.name.as_str()).collect();
    let map_idents: Vec<&Ident> = maps.iter().map(|m| &m.ident).collect();
    let map_types: Vec<&TokenStream> = maps.iter().map(|m| &m.ty).collect();
    let map_docs: Vec<&str> = maps.iter().map(|m| m.doc.as_str()).collect();
    let map_values: Vec<TokenStream> = maps
        .iter()
        .map(|m| {
            let name = &m.name;
            if m.typed {
                quote!(::core::convert::TryFrom::try_from(loaded.map(#name)?)?)
            } else {
                quote!(loaded.map(#name)?)
            }
        })
        .collect();
    // `.kconfig` is filled in by libbpf at load: it has no settings.
    let settable: Vec<&SectionField> = sections
        .iter()
        .filter(|s| s.section != ".kconfig")
        .collect();
    let set_names: Vec<&str> = settable.iter().map(|s| s.section.as_str()).collect();
    let set_fields: Vec<&Ident> = settable.iter().map(|s| &s.field).collect();
    let set_plain: Vec<&Ident> = settable.iter().map(|s| &s.plain).collect();
    let set_docs: Vec<String> = settable
        .iter()
        .map(|s| format!("The global variables of `{}`.", s.section))
        .collect();
    let sec_names: Vec<&str> = sections.iter().map(|s| s.section.as_str()).collect();
    let sec_fields: Vec<&Ident> = sections.iter().map(|s| &s.field).collect();
    let sec_views: Vec<&Ident> = sections.iter().map(|s| &s.view).collect();
    let sec_items = sections.iter().map(|s| &s.items);
    let sec_docs: Vec<String> = sections
        .iter()
        .map(|s| format!("The global variables of `{}`.", s.section))
        .collect();

    quote! {
        #[doc = #module_doc]
        #[allow(clippy::all, dead_code, non_camel_case_types, non_snake_case, unused_imports)]
        pub mod #module {
            use ::ebpf_skeleton as __ebs;

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
                #types
            }

            #(#sec_items)*

            /// The object parsed, nothing in the kernel yet: set what must be
            /// decided before load, then [`Specs::load`].
            #[derive(Debug)]
            pub struct Specs {
                /// The programs' settings.
                pub programs: ProgramSpecs,
                /// The maps' settings.
                pub maps: MapSpecs,
                #( #[doc = #set_docs] pub #set_fields: #set_plain, )*
                object: __ebs::OpenObject,
            }

            /// Settings of each program before load.
            #[derive(Debug, Clone)]
            pub struct ProgramSpecs {
                #( #[doc = #prog_docs] pub #prog_idents: __ebs::ProgramSpec, )*
            }

            /// Settings of each map before load.
            #[derive(Debug, Clone)]
            pub struct MapSpecs {
                #( #[doc = #map_docs] pub #map_idents: __ebs::MapSpec, )*
            }

            /// The object loaded into the kernel.
            #[derive(Debug)]
            pub struct Objects {
                /// The programs.
                pub programs: Programs,
                /// The maps.
                pub maps: Maps,
                #( #[doc = #sec_docs] pub #sec_fields: __ebs::Section<#sec_views>, )*
            }

            /// Each program of the loaded object.
            #[derive(Debug, Clone)]
            pub struct Programs {
                #( #[doc = #prog_docs] pub #prog_idents: __ebs::Program, )*
            }

            /// Each map of the loaded object.
            #[derive(Debug)]
            pub struct Maps {
                #( #[doc = #map_docs] pub #map_idents: #map_types, )*
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
                    Ok(Specs {
                        programs: ProgramSpecs {
                            #( #prog_idents: object.program_spec(#prog_names)?, )*
                        },
                        maps: MapSpecs {
                            #( #map_idents: object.map_spec(#map_names)?, )*
                        },
                        #( #set_fields: object.section_data(#set_names)?, )*
                        object,
                    })
                }

                /// Applies the settings and loads the object into the kernel.
                pub fn load(self) -> __ebs::Result<Objects> {
                    let Specs { programs, maps, mut object, #(#set_fields),* } = self;
                    #( object.apply_program(&programs.#prog_idents)?; )*
                    #( object.apply_map(&maps.#map_idents)?; )*
                    #( object.set_section_data(#set_names, &#set_fields)?; )*
                    let loaded = object.load()?;
                    Ok(Objects {
                        programs: Programs {
                            #( #prog_idents: loaded.program(#prog_names)?, )*
                        },
                        maps: Maps {
                            #( #map_idents: #map_values, )*
                        },
                        #( #sec_fields: loaded.section(#sec_names)?, )*
                    })
                }
            }

            impl Objects {
                /// Opens and loads the object with its default settings.
                pub fn load() -> __ebs::Result<Self> {
                    Specs::new()?.load()
                }

                /// Attaches every loaded program whose section names its
                /// hook; programs that need a target from the caller (`xdp`,
                /// `tc`, `socket`, a bare `uprobe`, ...) are skipped.
                pub fn attach(&self) -> __ebs::Result<::std::vec::Vec<__ebs::Link>> {
                    __ebs::attach_all(&[ #( &self.programs.#prog_idents ),* ])
                }
            }
        }
    }
}
