//! A map's field type: its typed map from the map's kind and BTF key and
//! value, or the byte map.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::map_kinds::{self, Params};
use crate::plan::MapField;
use crate::types::emit::{Emitter, Scope};

/// The field's Rust type.
pub fn field_type(types: &Emitter<'_>, m: &MapField) -> TokenStream {
    let Some(typed) = &m.typed else {
        return quote!(__ebs::Map);
    };
    let name = format_ident!("{}", typed.map.name);
    let spell = |ty: &Option<crate::types::Ty>| ty.as_ref().map(|t| types.ty(t, Scope::Skeleton));
    match (typed.map.params, spell(&typed.key), spell(&typed.value)) {
        (Params::KeyValue, Some(k), Some(v)) => quote!(__ebs::#name<#k, #v>),
        (Params::Value, _, Some(v)) => quote!(__ebs::#name<#v>),
        (Params::Key, Some(k), _) => quote!(__ebs::#name<#k>),
        _ => quote!(__ebs::#name),
    }
}

/// The field's documentation.
pub fn doc(m: &MapField) -> String {
    match (&m.typed, m.kind) {
        (Some(_), Some(kind)) => format!("The map `{}` ({}).", m.name, map_kinds::kind_name(kind)),
        _ => format!("The map `{}`.", m.name),
    }
}
