//! Checks that make the rest of the macro safe to index and recurse: every
//! type id a type refers to exists, data sections list variables (and
//! `.ksyms` kernel functions too), and no type contains itself by value
//! (which would make its size infinite).

use super::{Btf, Kind, TypeId};

/// Rejects BTF the later stages could not walk.
pub fn validate(btf: &Btf) -> Result<(), String> {
    let count = btf.types.len();
    for (id, ty) in btf.types.iter().enumerate() {
        for target in references(&ty.kind) {
            if target as usize >= count {
                return Err(format!(
                    "type {id} (`{}`) refers to type {target}, which does not exist",
                    ty.name
                ));
            }
        }
        if let Kind::Datasec(sec) = &ty.kind {
            // `.ksyms` lists kernel functions (`extern ... __ksym` kfuncs)
            // beside kernel variables; every other section only variables.
            let functions_too = ty.name == ".ksyms";
            for v in &sec.vars {
                match btf.types[v.var as usize].kind {
                    Kind::Var { .. } => {}
                    Kind::Func if functions_too => {}
                    _ => {
                        return Err(format!(
                            "data section `{}` lists type {} as a variable",
                            ty.name, v.var
                        ))
                    }
                }
            }
        }
    }
    no_cycles(btf)
}

/// The ids a type refers to, pointers included.
fn references(kind: &Kind) -> Vec<TypeId> {
    match kind {
        Kind::Ptr(t)
        | Kind::Typedef(t)
        | Kind::Volatile(t)
        | Kind::Const(t)
        | Kind::Restrict(t)
        | Kind::TypeTag(t)
        | Kind::Var { ty: t, .. } => vec![*t],
        Kind::Array { elem, .. } => vec![*elem],
        Kind::Struct(c) | Kind::Union(c) => c.members.iter().map(|m| m.ty).collect(),
        Kind::Datasec(d) => d.vars.iter().map(|v| v.var).collect(),
        _ => Vec::new(),
    }
}

/// The ids a type holds by value (what its size depends on).
fn by_value(kind: &Kind) -> Vec<TypeId> {
    match kind {
        Kind::Ptr(_) => Vec::new(),
        other => references(other),
    }
}

/// Depth-first search over by-value edges, iteratively (BTF can be deep).
fn no_cycles(btf: &Btf) -> Result<(), String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; btf.types.len()];
    for root in 0..btf.types.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // (type, index of the next edge to follow)
        let mut stack = vec![(root, 0usize)];
        marks[root] = Mark::Open;
        while let Some(&mut (id, ref mut next)) = stack.last_mut() {
            let edges = by_value(&btf.types[id].kind);
            if let Some(&child) = edges.get(*next) {
                *next += 1;
                let child = child as usize;
                match marks[child] {
                    Mark::Open => {
                        return Err(format!(
                            "type {child} (`{}`) contains itself",
                            btf.types[child].name
                        ));
                    }
                    Mark::New => {
                        marks[child] = Mark::Open;
                        stack.push((child, 0));
                    }
                    Mark::Done => {}
                }
            } else {
                marks[id] = Mark::Done;
                stack.pop();
            }
        }
    }
    Ok(())
}
