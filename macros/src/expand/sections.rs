//! A data section's two structs: plain (the values set before load) and
//! view (volatile cells over the kernel's memory after load).

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::SectionPlan;
use crate::types::emit::{Emitter, Scope};

/// Both structs and the view's `SectionView` impl.
pub fn items(types: &Emitter<'_>, s: &SectionPlan) -> TokenStream {
    let (plain, view) = (&s.plain, &s.view);
    let fields = types.fields(&s.fields, Scope::Skeleton, &|t| t);
    let cell = if s.writable {
        quote!(__ebs::Volatile)
    } else {
        quote!(__ebs::ReadOnly)
    };
    let view_fields = types.fields(&s.fields, Scope::Skeleton, &|t| quote!(#cell<#t>));
    let plain_doc = format!(
        "The global variables of `{}`, as set before load.",
        s.section
    );
    let view_doc = format!(
        "The global variables of `{}` in the kernel's memory: each access is a volatile {}.",
        s.section,
        if s.writable { "read or write" } else { "read" }
    );
    // With `bool`s the plain struct is not `Pod` (not every byte is a
    // `bool`): the runtime reads it knowing where they lie.
    let pod = if s.bools.is_empty() {
        types.pod_impl(plain)
    } else {
        let bools = s.bools.iter().map(|&at| at as usize);
        quote! {
            // SAFETY: repr(C) without padding (every gap is a field, the
            // layout is asserted), all zeroes valid, a `bool` at each of
            // these offsets and `Pod` fields everywhere else.
            unsafe impl __ebs::SectionData for #plain {
                const BOOLS: &'static [usize] = &[#(#bools),*];
            }
        }
    };
    let float_eq = Emitter::float_eq(s.has_float);
    let plain_data = types.plain_data(plain, s.has_float);
    let (writable, section, size) = (s.writable, s.section.as_str(), s.size as usize);
    quote! {
        #[doc = #plain_doc]
        #[repr(C)]
        #float_eq
        #[derive(::core::fmt::Debug)]
        pub struct #plain { #fields }
        #pod
        #plain_data

        #[doc = #view_doc]
        #[repr(C)]
        #[derive(::core::fmt::Debug)]
        pub struct #view { #view_fields }

        // SAFETY: a repr(C) struct of cells only, laid out like the section
        // (asserted with the skeleton's layouts); cells are `Volatile`
        // exactly when writable.
        unsafe impl __ebs::SectionView for #view {
            const WRITABLE: bool = #writable;
            const SECTION: &'static str = #section;
            const SIZE: usize = #size;
        }
    }
}

/// The rows of the skeleton's layout check for both structs.
pub fn layout_rows(s: &SectionPlan) -> [(TokenStream, u64); 2] {
    let (plain, view) = (&s.plain, &s.view);
    [(quote!(#plain), s.padded), (quote!(#view), s.padded)]
}
