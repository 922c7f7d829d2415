//! A map's field: its typed map from the map's kind and BTF key and value.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::ident;
use crate::model::Map;
use crate::types::{camel, Scope, TypeGen};

/// A map's field: its Rust type and how it is made from the byte map.
pub struct MapField {
    pub name: String,
    pub ident: Ident,
    pub ty: TokenStream,
    pub doc: String,
    /// Whether the field converts the byte map into a typed one.
    pub typed: bool,
}

impl MapField {
    pub fn untyped(m: &Map) -> Self {
        MapField {
            name: m.name.clone(),
            ident: ident::field(&m.name),
            ty: quote!(__ebs::Map),
            doc: format!("The map `{}`.", m.name),
            typed: false,
        }
    }
}

/// The typed map for a map's kind and BTF key and value; the byte map when
/// BTF does not say.
pub fn map_field(gen: &mut TypeGen<'_>, m: &Map) -> Result<MapField, String> {
    let mut field = MapField::untyped(m);
    let Some(def) = &m.def else { return Ok(field) };
    let hint = camel(&m.name);
    let key = def
        .key
        .map(|k| gen.rust_type(k, &format!("{hint}Key"), Scope::Skeleton))
        .transpose()?;
    let value = def
        .value
        .map(|v| gen.rust_type(v, &format!("{hint}Value"), Scope::Skeleton))
        .transpose()?;
    let kind = def.kind.unwrap_or(0);
    let typed = match (kind, key, value) {
        (1 | 9, Some(k), Some(v)) => quote!(__ebs::HashMap<#k, #v>),
        (2, Some(_), Some(v)) => quote!(__ebs::Array<#v>),
        (5 | 10, Some(k), Some(v)) => quote!(__ebs::PerCpuHashMap<#k, #v>),
        (6, Some(_), Some(v)) => quote!(__ebs::PerCpuArray<#v>),
        (11, Some(k), Some(v)) => quote!(__ebs::LpmTrie<#k, #v>),
        (22, _, Some(v)) => quote!(__ebs::Queue<#v>),
        (23, _, Some(v)) => quote!(__ebs::Stack<#v>),
        (30, _, Some(v)) => quote!(__ebs::BloomFilter<#v>),
        (3, ..) => quote!(__ebs::ProgramArray),
        (12, ..) => quote!(__ebs::ArrayOfMaps),
        (13, Some(k), _) => quote!(__ebs::HashOfMaps<#k>),
        (13, ..) => quote!(__ebs::HashOfMaps),
        (7, ..) => quote!(__ebs::StackTraceMap),
        (27, ..) => quote!(__ebs::RingBuf),
        (4, ..) => quote!(__ebs::PerfEventArray),
        _ => return Ok(field),
    };
    field.ty = typed;
    field.typed = true;
    field.doc = format!("The map `{}` ({}).", m.name, kind_name(kind));
    Ok(field)
}

pub fn kind_name(kind: u32) -> &'static str {
    const NAMES: &[&str] = &[
        "unspec",
        "hash",
        "array",
        "prog_array",
        "perf_event_array",
        "percpu_hash",
        "percpu_array",
        "stack_trace",
        "cgroup_array",
        "lru_hash",
        "lru_percpu_hash",
        "lpm_trie",
        "array_of_maps",
        "hash_of_maps",
        "devmap",
        "sockmap",
        "cpumap",
        "xskmap",
        "sockhash",
        "cgroup_storage",
        "reuseport_sockarray",
        "percpu_cgroup_storage",
        "queue",
        "stack",
        "sk_storage",
        "devmap_hash",
        "struct_ops",
        "ringbuf",
        "inode_storage",
        "task_storage",
        "bloom_filter",
        "user_ringbuf",
        "cgrp_storage",
        "arena",
    ];
    NAMES.get(kind as usize).copied().unwrap_or("unknown kind")
}
