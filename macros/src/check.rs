//! Checking the model of a skeleton and deciding everything expansion
//! writes ([`plan::Skeleton`]). Every error goes into one [`Ctxt`] with its
//! span, so that users see all of them at once and nothing is emitted
//! until the whole model is known to be good.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::format_ident;

use crate::args::SkeletonArgs;
use crate::btf::{Btf, Kind, Member};
use crate::ctxt::Ctxt;
use crate::ident;
use crate::map_kinds::{self, Params};
use crate::model::{DataSection, KernelSymbol, Map, Object, StructOpsMap};
use crate::plan::{MapField, ProgramField, SectionPlan, Skeleton, StructOpsField, TypedField};
use crate::types::{camel, Field, Resolver, Ty};

/// Checks `object` for `ebpf_skeleton!`; `None` when it has nothing to
/// expand into (the errors are in `cx`).
pub fn skeleton(
    cx: &mut Ctxt,
    object: &Object,
    args: &SkeletonArgs,
    path: &std::path::Path,
    krate: proc_macro2::TokenStream,
) -> Option<Skeleton> {
    let lit = &args.path;
    let given = lit.value();
    if object.programs.is_empty() && object.maps.is_empty() && object.struct_ops.is_empty() {
        cx.error(
            lit.span(),
            format!(
                "`{given}` has neither programs nor maps: mark programs with SEC(\"...\") \
                 in a section other than .text, and maps with SEC(\".maps\")"
            ),
        );
        return None;
    }
    collisions(
        cx,
        "program",
        object.programs.iter().map(|p| &p.name[..]),
        lit.span(),
    );
    collisions(
        cx,
        "map",
        object.maps.iter().map(|m| &m.name[..]),
        lit.span(),
    );

    let empty = Btf { types: Vec::new() };
    let mut types = Resolver::new(object.btf.as_ref().unwrap_or(&empty));
    // Errors about the object itself point at its path.
    let object_error = |cx: &mut Ctxt, span: Span, e: String| {
        cx.error(span, format!("in `{given}`: {e}"));
    };
    for wanted in &args.types {
        if let Err(e) = requested_type(&mut types, wanted) {
            object_error(cx, wanted.span(), e);
        }
    }
    let mut maps = Vec::new();
    for m in &object.maps {
        match map_field(&mut types, m) {
            Ok(field) => maps.push(field),
            Err(e) => object_error(cx, lit.span(), format!("map `{}`: {e}", m.name)),
        }
    }
    collisions(
        cx,
        "struct_ops map",
        object.struct_ops.iter().map(|m| &m.name[..]),
        lit.span(),
    );
    let mut struct_ops = Vec::new();
    for m in &object.struct_ops {
        match struct_ops_field(&mut types, m) {
            Ok(field) => struct_ops.push(field),
            Err(e) => object_error(cx, lit.span(), format!("struct_ops map `{}`: {e}", m.name)),
        }
    }
    let mut sections = Vec::new();
    for s in &object.sections {
        match section(&mut types, s) {
            Ok(plan) => sections.push(plan),
            Err(e) => object_error(cx, lit.span(), format!("section `{}`: {e}", s.name)),
        }
    }
    let (types, errors) = types.finish();
    for e in errors {
        object_error(cx, lit.span(), e);
    }
    Some(Skeleton {
        module: args
            .module
            .clone()
            .unwrap_or_else(|| ident::field(&object.name)),
        name: object.name.clone(),
        path: path.to_string_lossy().into_owned(),
        krate,
        programs: object
            .programs
            .iter()
            .map(|p| ProgramField {
                name: p.name.clone(),
                ident: ident::field(&p.name),
                section: p.section.clone(),
            })
            .collect(),
        maps,
        struct_ops,
        sections,
        types,
        kernel_doc: kernel_doc(&object.kernel_symbols),
    })
}

/// "Takes from the kernel: the kfuncs `a`, `b` (weak); the variable `x`."
fn kernel_doc(symbols: &[KernelSymbol]) -> Option<String> {
    let list = |function: bool| {
        symbols
            .iter()
            .filter(|s| s.function == function)
            .map(|s| {
                let weak = if s.weak { " (weak)" } else { "" };
                format!("`{}`{weak}", s.name)
            })
            .collect::<Vec<_>>()
    };
    let mut parts = Vec::new();
    for (function, what) in [(true, "kfunc"), (false, "kernel variable")] {
        let names = list(function);
        if !names.is_empty() {
            let plural = if names.len() == 1 { "" } else { "s" };
            parts.push(format!("the {what}{plural} {}", names.join(", ")));
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Takes from the kernel (resolved by libbpf at load; a weak one the kernel lacks is 0): {}.",
            parts.join("; ")
        )
    })
}

/// No two of an object's names may become the same Rust field.
fn collisions<'a>(cx: &mut Ctxt, kind: &str, names: impl Iterator<Item = &'a str>, span: Span) {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for name in names {
        let field = ident::field_text(name);
        if let Some(first) = seen.insert(field.clone(), name) {
            cx.error(
                span,
                format!("the {kind}s `{first}` and `{name}` would both be the field `{field}`; rename one"),
            );
        }
    }
}

fn requested_type(types: &mut Resolver<'_>, wanted: &syn::Ident) -> Result<(), String> {
    let name = wanted.to_string();
    let btf = types.btf();
    let id = btf.find_named(&name).ok_or_else(|| {
        let mut msg =
            format!("the object's BTF has no struct, union, enum or typedef named `{name}`");
        let nameable = btf.types.iter().filter(|t| is_nameable(&t.kind));
        match nearest(&name, nameable.map(|t| t.name.as_str())) {
            Some(near) => msg.push_str(&format!("; did you mean `{near}`?")),
            None => msg.push_str(&not_in_btf_help(&name)),
        }
        msg
    })?;
    types.ty(id, "").map(drop)
}

/// Why a type the C source defines can be missing from BTF, and what to
/// do about it; shared by every macro that looks types up by name.
pub fn not_in_btf_help(name: &str) -> String {
    format!(
        ". clang keeps a type in BTF only when a global, a map or a function \
         signature uses it; a record only filled in a local variable and sent \
         with bpf_ringbuf_output or bpf_perf_event_output is left out. Keep it \
         in the object with a global, e.g. `struct {name} *unused_{name} \
         __attribute__((unused));`, or a map's `__type(value, struct {name})`; \
         or write the type in Rust with `#[derive(ebpf_skeleton::Pod)]`"
    )
}

fn is_nameable(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Struct(_) | Kind::Union(_) | Kind::Enum(_) | Kind::Typedef(_)
    )
}

/// The typed map for a map's kind and BTF key and value; the byte map when
/// BTF does not say.
fn map_field(types: &mut Resolver<'_>, m: &Map) -> Result<MapField, String> {
    let mut field = MapField {
        name: m.name.clone(),
        ident: ident::field(&m.name),
        kind: m.def.as_ref().and_then(|d| d.kind),
        typed: None,
    };
    let Some(def) = &m.def else { return Ok(field) };
    let hint = camel(&m.name);
    let key = def
        .key
        .map(|k| types.ty(k, &format!("{hint}Key")))
        .transpose()?;
    let value = def
        .value
        .map(|v| types.ty(v, &format!("{hint}Value")))
        .transpose()?;
    let Some(map) = map_kinds::for_kind(def.kind.unwrap_or(0)) else {
        return Ok(field);
    };
    let complete = match map.params {
        Params::KeyValue => key.is_some() && value.is_some(),
        Params::Value => value.is_some(),
        // `HashOfMaps` keys by `u32` unless told otherwise.
        Params::Key | Params::None => true,
    };
    // Without the key or value it takes, BTF does not say what the field is.
    if complete {
        field.typed = Some(TypedField { map, key, value });
    }
    Ok(field)
}

/// A struct_ops map's data, as the generated type of its named struct
/// (libbpf refuses any other).
fn struct_ops_field(types: &mut Resolver<'_>, m: &StructOpsMap) -> Result<StructOpsField, String> {
    let btf = types.btf();
    let target = btf.get(btf.skip_aliases(m.ty)?)?;
    if !matches!(target.kind, Kind::Struct(_)) || target.name.is_empty() {
        return Err("its type is not a named struct, which libbpf requires".into());
    }
    Ok(StructOpsField {
        name: m.name.clone(),
        ident: ident::field(&m.name),
        section: m.section.clone(),
        ty: types.ty(m.ty, &camel(&m.name))?,
    })
}

/// A data section's variables as the fields of its two structs.
fn section(types: &mut Resolver<'_>, s: &DataSection) -> Result<SectionPlan, String> {
    let btf = types.btf();
    let Kind::Datasec(sec) = &btf.get(s.datasec)?.kind else {
        return Err("is not a data section in BTF".into());
    };
    let mut members = Vec::new();
    for v in &sec.vars {
        let var = btf.get(v.var)?;
        if let Kind::Var { ty, global: true } = var.kind {
            let bit_offset = v
                .offset
                .checked_mul(8)
                .ok_or_else(|| format!("variable `{}` lies beyond any section", var.name))?;
            members.push(Member {
                name: var.name.clone(),
                ty,
                bit_offset,
                bitfield_size: 0,
            });
        }
    }
    let base = camel(&s.name);
    // A section ends where its last variable does; the Rust structs round
    // that up to their alignment (the runtime copies only the section's
    // bytes, and maps whole pages).
    let mut align = 1;
    for m in &members {
        align = align.max(types.align_of(m.ty)?);
    }
    let padded = u64::from(sec.size).next_multiple_of(align);
    if types.needs_packing(&base, padded, &members)? {
        return Err(
            "a variable lies off its natural alignment, which a live view cannot hold".into(),
        );
    }
    let mut fields = types.fields(&base, padded, &members)?;
    let bools = bools_as_bool(btf, &members, &mut fields)?;
    Ok(SectionPlan {
        section: s.name.clone(),
        field: ident::field(&s.name.trim_start_matches('.').replace('.', "_")),
        plain: format_ident!("{}", base),
        view: format_ident!("{}View", base),
        size: sec.size.into(),
        padded,
        writable: !s.name.starts_with(".rodata") && s.name != ".kconfig",
        has_float: types.any_float(&members)?,
        fields,
        bools,
    })
}

/// Makes each C `bool` variable (or array of them) among `fields` a Rust
/// `bool`; returns the byte offsets of every `bool`.
fn bools_as_bool(btf: &Btf, members: &[Member], fields: &mut [Field]) -> Result<Vec<u64>, String> {
    let mut offsets = Vec::new();
    for field in fields {
        let Field::Member {
            c_name, ty, offset, ..
        } = field
        else {
            continue;
        };
        let Some(member) = members.iter().find(|m| &m.name == c_name) else {
            continue;
        };
        let count = match btf.get(btf.skip_aliases(member.ty)?)?.kind {
            Kind::Array { elem, len } if is_bool(btf, elem)? => {
                *ty = Ty::Array(Box::new(Ty::Bool), len.into());
                len.into()
            }
            _ if is_bool(btf, member.ty)? => {
                *ty = Ty::Bool;
                1
            }
            _ => continue,
        };
        offsets.extend(*offset..*offset + count);
    }
    Ok(offsets)
}

/// Whether `id` is C's `bool` (`_Bool`, through typedefs and qualifiers).
fn is_bool(btf: &Btf, id: crate::btf::TypeId) -> Result<bool, String> {
    Ok(matches!(
        btf.get(btf.skip_aliases(id)?)?.kind,
        Kind::Int(int) if int.bool && int.size == 1
    ))
}

/// The name closest to `name` by edit distance, if any is close enough to
/// be a likely typo.
pub fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .filter(|c| !c.is_empty())
        .map(|c| (distance(name, c), c))
        .filter(|&(d, c)| d <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
