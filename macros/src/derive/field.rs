//! What a field of a `#[derive(Objects)]` struct asks for, read from its
//! type: a program, a map of some kind, or a data section.

use syn::{GenericArgument, PathArguments, Type};

use crate::map_kinds::{self, Params};

/// The kind of thing a field holds.
pub enum Want {
    Program,
    /// A map; `kinds` are the `BPF_MAP_TYPE_*` it accepts (empty: any).
    Map {
        ty: &'static str,
        kinds: &'static [u32],
        key: Option<Box<Type>>,
        value: Option<Box<Type>>,
    },
    /// A data section's live view.
    Section,
    /// A struct_ops map, to register.
    StructOps,
}

/// Reads the field's type; `None` for a type the derive does not know.
pub fn want(ty: &Type) -> Option<Want> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let args: Vec<Type> = match &last.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let arg = |i: usize| args.get(i).cloned().map(Box::new);
    let name = last.ident.to_string();
    match name.as_str() {
        "Program" => return Some(Want::Program),
        "Section" => return Some(Want::Section),
        "StructOps" => return Some(Want::StructOps),
        "Map" => {
            return Some(Want::Map {
                ty: "Map",
                kinds: &[],
                key: None,
                value: None,
            });
        }
        _ => {}
    }
    let typed = map_kinds::by_name(&name)?;
    let (key, value) = match typed.params {
        Params::KeyValue => (arg(0), arg(1)),
        Params::Key => (arg(0), None),
        Params::Value => (None, arg(0)),
        Params::None => (None, None),
    };
    Some(Want::Map {
        ty: typed.name,
        kinds: typed.kinds,
        key,
        value,
    })
}
