//! Writing the skeleton module's tokens.
//!
//! Generated code only names fields and forwards to the runtime; every
//! decision (how to open, load, attach) lives in `ebpf_skeleton` itself.

use std::path::Path;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::ident;
use crate::model::Object;

/// `pub mod <name> { Specs, Objects, ... }` for the object at `path`.
pub fn skeleton(object: &Object, path: &Path) -> TokenStream {
    let module = ident::field(&object.name);
    let name = &object.name;
    let path = path.to_string_lossy();
    let module_doc = format!(
        "Skeleton of the eBPF object `{name}`: {} program(s), {} map(s).",
        object.programs.len(),
        object.maps.len()
    );
    let programs = Fields::programs(object);
    let maps = Fields::maps(object);
    let program_idents = &programs.idents;
    let map_idents = &maps.idents;
    let (prog_names, map_names) = (&programs.names, &maps.names);
    let (prog_docs, map_docs) = (&programs.docs, &maps.docs);

    quote! {
        #[doc = #module_doc]
        #[allow(clippy::all, dead_code, non_camel_case_types, non_snake_case)]
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

            /// The object parsed, nothing in the kernel yet: set what must be
            /// decided before load, then [`Specs::load`].
            #[derive(Debug)]
            pub struct Specs {
                /// The programs' settings.
                pub programs: ProgramSpecs,
                /// The maps' settings.
                pub maps: MapSpecs,
                object: __ebs::OpenObject,
            }

            /// Settings of each program before load.
            #[derive(Debug, Clone)]
            pub struct ProgramSpecs {
                #( #[doc = #prog_docs] pub #program_idents: __ebs::ProgramSpec, )*
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
            }

            /// Each program of the loaded object.
            #[derive(Debug, Clone)]
            pub struct Programs {
                #( #[doc = #prog_docs] pub #program_idents: __ebs::Program, )*
            }

            /// Each map of the loaded object.
            #[derive(Debug)]
            pub struct Maps {
                #( #[doc = #map_docs] pub #map_idents: __ebs::Map, )*
            }

            impl Specs {
                /// Opens the embedded object; needs no privileges.
                pub fn new() -> __ebs::Result<Self> {
                    let object = __ebs::OpenObject::from_static(NAME, bytes())?;
                    Ok(Specs {
                        programs: ProgramSpecs {
                            #( #program_idents: object.program_spec(#prog_names)?, )*
                        },
                        maps: MapSpecs {
                            #( #map_idents: object.map_spec(#map_names)?, )*
                        },
                        object,
                    })
                }

                /// Applies the settings and loads the object into the kernel.
                pub fn load(self) -> __ebs::Result<Objects> {
                    let Specs { programs, maps, mut object } = self;
                    #( object.apply_program(&programs.#program_idents)?; )*
                    #( object.apply_map(&maps.#map_idents)?; )*
                    let loaded = object.load()?;
                    Ok(Objects {
                        programs: Programs {
                            #( #program_idents: loaded.program(#prog_names)?, )*
                        },
                        maps: Maps {
                            #( #map_idents: loaded.map(#map_names)?, )*
                        },
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
                    __ebs::attach_all(&[ #( &self.programs.#program_idents ),* ])
                }
            }
        }
    }
}

/// The names, field identifiers and docs of one kind of field.
struct Fields {
    names: Vec<String>,
    idents: Vec<Ident>,
    docs: Vec<String>,
}

impl Fields {
    fn programs(object: &Object) -> Self {
        let mut fields = Fields::empty();
        for p in &object.programs {
            fields.push(&p.name, format!("The program `{}` (section `{}`).", p.name, p.section));
        }
        fields
    }

    fn maps(object: &Object) -> Self {
        let mut fields = Fields::empty();
        for m in &object.maps {
            fields.push(&m.name, format!("The map `{}`.", m.name));
        }
        fields
    }

    fn empty() -> Self {
        Fields {
            names: Vec::new(),
            idents: Vec::new(),
            docs: Vec::new(),
        }
    }

    fn push(&mut self, name: &str, doc: String) {
        self.names.push(name.to_owned());
        self.idents.push(ident::field(name));
        self.docs.push(doc);
    }
}
