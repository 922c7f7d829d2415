//! What the skeleton of an object holds, as plain values for tools to
//! print: the same checks as the macro, then the plan read back instead of
//! written as tokens.

use std::path::Path;

use crate::file::{arguments, Error};
use crate::map_kinds::{self, Params};
use crate::plan::{MapField, SectionPlan, Skeleton};
use crate::types::{Body, Field, Ty, TypeSet};
use crate::{check, ctxt::Ctxt, krate, locate, ExpandOptions};

/// The skeleton of one object, as [`info`] reads it.
#[derive(Debug, Clone)]
pub struct Info {
    /// The object's name, as libbpf names it.
    pub name: String,
    /// The module the macro expands into.
    pub module: String,
    /// The programs, in section order.
    pub programs: Vec<ProgramInfo>,
    /// The maps of `.maps`.
    pub maps: Vec<MapInfo>,
    /// The data sections holding global variables.
    pub sections: Vec<SectionInfo>,
    /// Every type the skeleton generates in its `types` module.
    pub types: Vec<TypeInfo>,
}

/// A program and its field.
#[derive(Debug, Clone)]
pub struct ProgramInfo {
    /// The C function's name.
    pub name: String,
    /// Its ELF section, which names its type and hook.
    pub section: String,
    /// Its field in `Programs` and `ProgramSpecs`.
    pub field: String,
}

/// A map and its field.
#[derive(Debug, Clone)]
pub struct MapInfo {
    /// The map's name.
    pub name: String,
    /// Its field in `Maps` and `MapSpecs`.
    pub field: String,
    /// Its kind (`hash`, `ringbuf`, ...), when BTF says.
    pub kind: Option<&'static str>,
    /// The Rust type of its key, when the typed map takes one.
    pub key: Option<String>,
    /// The Rust type of its value, when the typed map takes one.
    pub value: Option<String>,
    /// The field's type (`HashMap<u32, types::Counts>`, `RingBuf`, `Map`).
    pub field_type: String,
}

/// A data section and its variables.
#[derive(Debug, Clone)]
pub struct SectionInfo {
    /// The ELF section (`.bss`, `.rodata`, `.data.stats`).
    pub name: String,
    /// Its field in `Specs` and `Objects`.
    pub field: String,
    /// Its size in bytes.
    pub size: u64,
    /// Whether programs (and the live view) may write it.
    pub writable: bool,
    /// Its global variables, in offset order.
    pub variables: Vec<VariableInfo>,
}

/// A global variable.
#[derive(Debug, Clone)]
pub struct VariableInfo {
    /// The C name.
    pub name: String,
    /// The Rust field.
    pub field: String,
    /// The Rust type.
    pub ty: String,
    /// The offset in its section.
    pub offset: u64,
}

/// A generated type.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    /// The Rust name in `types`.
    pub name: String,
    /// The C name, empty for an anonymous type.
    pub c_name: String,
    /// `struct`, `union`, `enum` or `type` (an alias).
    pub kind: &'static str,
    /// Its size in bytes (none for an alias).
    pub size: Option<u64>,
}

/// Reads and checks `object` as `ebpf_skeleton!` would, and says what its
/// skeleton holds.
pub fn info(object: &Path, options: &ExpandOptions) -> Result<Info, Error> {
    let args = arguments(object, options)?;
    let (file, model) = locate::object(&args.path, None)?;
    let mut cx = Ctxt::default();
    let plan = check::skeleton(&mut cx, &model, &args, &file.path, krate::default());
    cx.finish()?;
    let Some(plan) = plan else {
        return Err(Error {
            messages: vec!["the object has nothing to expand".to_owned()],
        });
    };
    Ok(describe(&plan))
}

fn describe(sk: &Skeleton) -> Info {
    let set = &sk.types;
    Info {
        name: sk.name.clone(),
        module: sk.module.to_string(),
        programs: sk
            .programs
            .iter()
            .map(|p| ProgramInfo {
                name: p.name.clone(),
                section: p.section.clone(),
                field: p.ident.to_string(),
            })
            .collect(),
        maps: sk.maps.iter().map(|m| map(set, m)).collect(),
        sections: sk.sections.iter().map(|s| section(set, s)).collect(),
        types: set.defs.iter().map(type_info).collect(),
    }
}

fn map(set: &TypeSet, m: &MapField) -> MapInfo {
    let spell = |ty: &Option<Ty>| ty.as_ref().map(|t| spell(set, t));
    let (key, value, field_type) = match &m.typed {
        None => (None, None, "Map".to_owned()),
        Some(typed) => {
            let (key, value) = (spell(&typed.key), spell(&typed.value));
            let params = match typed.map.params {
                Params::KeyValue => vec![key.clone(), value.clone()],
                Params::Key => vec![key.clone()],
                Params::Value => vec![value.clone()],
                Params::None => vec![],
            };
            let params: Vec<String> = params.into_iter().flatten().collect();
            let field_type = if params.is_empty() {
                typed.map.name.to_owned()
            } else {
                format!("{}<{}>", typed.map.name, params.join(", "))
            };
            (key, value, field_type)
        }
    };
    MapInfo {
        name: m.name.clone(),
        field: m.ident.to_string(),
        kind: m.kind.map(map_kinds::kind_name),
        key,
        value,
        field_type,
    }
}

fn section(set: &TypeSet, s: &SectionPlan) -> SectionInfo {
    let variables = s
        .fields
        .iter()
        .filter_map(|f| match f {
            Field::Member {
                ident,
                c_name,
                ty,
                offset,
            } => Some(VariableInfo {
                name: c_name.clone(),
                field: ident.to_string(),
                ty: spell(set, ty),
                offset: *offset,
            }),
            _ => None,
        })
        .collect();
    SectionInfo {
        name: s.section.clone(),
        field: s.field.to_string(),
        size: s.size,
        writable: s.writable,
        variables,
    }
}

fn type_info(def: &crate::types::Def) -> TypeInfo {
    let (kind, size) = match &def.body {
        Body::Struct(s) => ("struct", Some(s.size)),
        Body::Union(u) => ("union", Some(u.size)),
        Body::Enum(e) => ("enum", Some(e.size)),
        Body::Alias(_) => ("type", None),
    };
    TypeInfo {
        name: def.name.to_string(),
        c_name: def.c_name.clone(),
        kind,
        size,
    }
}

/// A type as the skeleton module spells it (`types::` for generated ones).
fn spell(set: &TypeSet, ty: &Ty) -> String {
    match ty {
        Ty::Scalar(name) => (*name).to_owned(),
        Ty::Bool => "bool".to_owned(),
        Ty::Bytes(n) => format!("[u8; {n}]"),
        Ty::Array(elem, n) => format!("[{}; {n}]", spell(set, elem)),
        Ty::Def(i) => format!("types::{}", set.defs[*i].name),
    }
}
