//! `#[ebpf(...)]` attributes of `#[derive(Objects)]`.

use syn::{Attribute, LitStr};

use crate::ctxt::Ctxt;

/// `#[ebpf(object = "prog.bpf.o", crate = "ebpf")]` on the struct.
pub struct Container {
    pub object: Option<LitStr>,
    /// The runtime's path in generated code, when the dependency is renamed.
    pub krate: Option<LitStr>,
}

/// `#[ebpf(name = "events")]` on a field.
#[derive(Default)]
pub struct Field {
    pub name: Option<LitStr>,
}

impl Container {
    pub fn parse(cx: &mut Ctxt, attrs: &[Attribute]) -> Self {
        let mut object: Option<LitStr> = None;
        let mut krate: Option<LitStr> = None;
        for attr in ebpf_attrs(attrs) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("crate") {
                    let value: LitStr = meta.value()?.parse()?;
                    if krate.is_some() {
                        cx.error(value.span(), "`crate` is given twice");
                    }
                    krate = Some(value);
                    Ok(())
                } else if meta.path.is_ident("object") {
                    let value: LitStr = meta.value()?.parse()?;
                    if let Some(first) = &object {
                        cx.error(
                            value.span(),
                            format!("the object is named twice (first `{}`); a struct loads one object", first.value()),
                        );
                    } else {
                        object = Some(value);
                    }
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown attribute `{}`; on the struct, `#[ebpf(object = \"prog.bpf.o\")]` is expected (and `crate = \"...\"` for a renamed dependency)",
                        path_text(&meta.path)
                    )))
                }
            });
            if let Err(e) = result {
                cx.push(e);
            }
        }
        Container { object, krate }
    }
}

impl Field {
    /// The field's attributes; `None` when they are wrong (already
    /// reported), so that no error follows from a guess.
    pub fn parse(cx: &mut Ctxt, attrs: &[Attribute]) -> Option<Self> {
        let mut field = Field::default();
        let mut ok = true;
        for attr in ebpf_attrs(attrs) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    let value: LitStr = meta.value()?.parse()?;
                    if field.name.is_some() {
                        cx.error(value.span(), "`name` is given twice");
                        ok = false;
                    }
                    field.name = Some(value);
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown attribute `{}`; on a field, `#[ebpf(name = \"...\")]` is expected",
                        path_text(&meta.path)
                    )))
                }
            });
            if let Err(e) = result {
                cx.push(e);
                ok = false;
            }
        }
        ok.then_some(field)
    }
}

fn ebpf_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("ebpf"))
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}
