//! A data section's two structs: plain (the values set before load) and
//! view (volatile cells over the kernel's memory after load).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::btf::{Kind, Member};
use crate::ident;
use crate::model::DataSection;
use crate::types::{camel, Scope, TypeGen};

/// A data section's two structs: plain (set before load) and view (live).
pub struct SectionField {
    /// The ELF section name, e.g. `.rodata`.
    pub section: String,
    /// The field in `Specs` and `Objects`, e.g. `rodata`.
    pub field: Ident,
    /// The plain struct (`Rodata`).
    pub plain: Ident,
    /// The live view (`RodataView`).
    pub view: Ident,
    /// Both structs, their impls and assertions.
    pub items: TokenStream,
}

pub fn section(gen: &mut TypeGen<'_>, s: &DataSection) -> Result<SectionField, String> {
    let btf = gen.btf();
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
    let (plain, view) = (format_ident!("{}", base), format_ident!("{}View", base));
    // A section ends where its last variable does; the Rust structs round
    // that up to their alignment (the runtime copies only the section's
    // bytes, and maps whole pages).
    let mut align = 1;
    for m in &members {
        align = align.max(gen.align_of(m.ty)?);
    }
    let padded = u64::from(sec.size).next_multiple_of(align);
    if gen.needs_packing(&base, padded, &members)? {
        return Err(
            "a variable lies off its natural alignment, which a live view cannot hold".into(),
        );
    }
    let size = padded as usize;
    let section_size = sec.size as usize;
    let section_name = s.name.as_str();
    let body = gen.struct_body(&base, padded, &members, Scope::Skeleton, &|t| t)?;
    let writable = !s.name.starts_with(".rodata") && s.name != ".kconfig";
    let cell = if writable {
        quote!(__ebs::Volatile)
    } else {
        quote!(__ebs::ReadOnly)
    };
    let view_body = gen.struct_body(
        &format!("{base}View"),
        padded,
        &members,
        Scope::Skeleton,
        &|t| quote!(#cell<#t>),
    )?;
    let (fields, asserts) = (body.fields, body.asserts);
    let (view_fields, view_asserts) = (view_body.fields, view_body.asserts);
    let plain_doc = format!("The global variables of `{}`, as set before load.", s.name);
    let view_doc = format!(
        "The global variables of `{}` in the kernel's memory: each access is a volatile {}.",
        s.name,
        if writable { "read or write" } else { "read" }
    );
    let derives = crate::types::pod_derives();
    let items = quote! {
        #[doc = #plain_doc]
        #[repr(C)]
        #derives
        pub struct #plain { #fields }

        #[doc = #view_doc]
        #[repr(C)]
        #[derive(::core::fmt::Debug)]
        pub struct #view { #view_fields }

        // SAFETY: a repr(C) struct of cells only, laid out like the section
        // (asserted below); cells are `Volatile` exactly when writable.
        unsafe impl __ebs::SectionView for #view {
            const WRITABLE: bool = #writable;
            const SECTION: &'static str = #section_name;
            const SIZE: usize = #section_size;
        }

        const _: () = {
            ::core::assert!(::core::mem::size_of::<#plain>() == #size);
            ::core::assert!(::core::mem::size_of::<#view>() == #size);
            #asserts
            #view_asserts
        };
    };
    Ok(SectionField {
        section: s.name.clone(),
        field: ident::field(&s.name.trim_start_matches('.').replace('.', "_")),
        plain,
        view,
        items,
    })
}
