//! C names as Rust identifiers.

use proc_macro2::{Ident, Span};

/// Words a Rust identifier cannot be, in any edition.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
    "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot even be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// The field name for a C name: the name itself, `r#name` for a keyword, or
/// `name_` for the few keywords raw identifiers cannot spell.
pub fn field(name: &str) -> Ident {
    let name = sanitize(name);
    if NOT_RAW.contains(&name.as_str()) || name == "_" {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name.as_str()) {
        Ident::new_raw(&name, Span::call_site())
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// How a field for `name` is written in Rust source (for messages).
pub fn field_text(name: &str) -> String {
    field(name).to_string()
}

/// Replaces what a Rust identifier cannot hold (`-`, `.`) with `_`, and
/// prefixes a leading digit.
fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_stay_usable() {
        assert_eq!(field("type").to_string(), "r#type");
        assert_eq!(field("loop").to_string(), "r#loop");
        assert_eq!(field("self").to_string(), "self_");
        assert_eq!(field("counts").to_string(), "counts");
        assert_eq!(field("exec-snoop").to_string(), "exec_snoop");
        assert_eq!(field("1x").to_string(), "_1x");
        assert_eq!(field("_").to_string(), "__");
    }
}
