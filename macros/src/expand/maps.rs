//! A map's field: its typed map from the map's kind and BTF key and value.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::ident;
use crate::map_kinds::{self, Params};
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
    let Some(typed) = map_kinds::for_kind(kind) else {
        return Ok(field);
    };
    let name = format_ident!("{}", typed.name);
    field.ty = match (typed.params, key, value) {
        (Params::KeyValue, Some(k), Some(v)) => quote!(__ebs::#name<#k, #v>),
        (Params::Value, _, Some(v)) => quote!(__ebs::#name<#v>),
        (Params::Key, Some(k), _) => quote!(__ebs::#name<#k>),
        (Params::Key | Params::None, ..) => quote!(__ebs::#name),
        // BTF does not say what the keys or values are.
        _ => return Ok(field),
    };
    field.typed = true;
    field.doc = format!("The map `{}` ({}).", m.name, map_kinds::kind_name(kind));
    Ok(field)
}
