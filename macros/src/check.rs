//! Checks on the model before expansion.

use std::collections::HashMap;

use syn::LitStr;

use crate::ident;
use crate::model::Object;

/// An object must give the skeleton something to hold, and no two of its
/// names may become the same Rust field.
pub fn skeleton(object: &Object, lit: &LitStr) -> syn::Result<()> {
    if object.programs.is_empty() && object.maps.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`{}` has neither programs nor maps: mark programs with SEC(\"...\") \
                 in a section other than .text, and maps with SEC(\".maps\")",
                lit.value()
            ),
        ));
    }
    let mut errors = Vec::new();
    errors.extend(collisions(
        "program",
        object.programs.iter().map(|p| &p.name[..]),
        lit,
    ));
    errors.extend(collisions(
        "map",
        object.maps.iter().map(|m| &m.name[..]),
        lit,
    ));
    combine(errors)
}

fn collisions<'a>(
    kind: &str,
    names: impl Iterator<Item = &'a str>,
    lit: &LitStr,
) -> Vec<syn::Error> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut errors = Vec::new();
    for name in names {
        let field = ident::field_text(name);
        if let Some(first) = seen.insert(field.clone(), name) {
            errors.push(syn::Error::new(
                lit.span(),
                format!("the {kind}s `{first}` and `{name}` would both be the field `{field}`; rename one"),
            ));
        }
    }
    errors
}

fn combine(errors: Vec<syn::Error>) -> syn::Result<()> {
    let mut iter = errors.into_iter();
    match iter.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(iter);
            Err(first)
        }
    }
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
