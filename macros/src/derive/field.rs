//! What a field of a `#[derive(Objects)]` struct asks for, read from its
//! type: a program, a map of some kind, or a data section.

use syn::{GenericArgument, PathArguments, Type};

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
    let map = |ty, kinds, key, value| {
        Some(Want::Map {
            ty,
            kinds,
            key,
            value,
        })
    };
    match last.ident.to_string().as_str() {
        "Program" => Some(Want::Program),
        "Section" => Some(Want::Section),
        "Map" => map("Map", &[], None, None),
        "HashMap" => map("HashMap", &[1, 9], arg(0), arg(1)),
        "Array" => map("Array", &[2], None, arg(0)),
        "PerCpuHashMap" => map("PerCpuHashMap", &[5, 10], arg(0), arg(1)),
        "PerCpuArray" => map("PerCpuArray", &[6], None, arg(0)),
        "LpmTrie" => map("LpmTrie", &[11], arg(0), arg(1)),
        "Queue" => map("Queue", &[22], None, arg(0)),
        "Stack" => map("Stack", &[23], None, arg(0)),
        "BloomFilter" => map("BloomFilter", &[30], None, arg(0)),
        "ProgramArray" => map("ProgramArray", &[3], None, None),
        "ArrayOfMaps" => map("ArrayOfMaps", &[12], None, None),
        "HashOfMaps" => map("HashOfMaps", &[13], None, None),
        "StackTraceMap" => map("StackTraceMap", &[7], None, None),
        "RingBuf" => map("RingBuf", &[27], None, None),
        "PerfEventArray" => map("PerfEventArray", &[4], None, None),
        _ => None,
    }
}

/// The typed map field type that fits a map kind, for suggestions.
pub fn type_for_kind(kind: u32) -> Option<&'static str> {
    Some(match kind {
        1 | 9 => "HashMap",
        2 => "Array",
        5 | 10 => "PerCpuHashMap",
        6 => "PerCpuArray",
        11 => "LpmTrie",
        22 => "Queue",
        23 => "Stack",
        30 => "BloomFilter",
        3 => "ProgramArray",
        12 => "ArrayOfMaps",
        13 => "HashOfMaps",
        7 => "StackTraceMap",
        27 => "RingBuf",
        4 => "PerfEventArray",
        _ => return None,
    })
}
