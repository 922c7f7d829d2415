//! `new NAME`: a project that builds and runs at once, from the templates
//! in `cli/template/`.

use std::path::{Path, PathBuf};

use crate::Result;

/// The templates, with `@NAME@`, `@MODULE@`, `@RUNTIME@` and `@BUILD@` to
/// fill in, and where each goes.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../template/Cargo.toml.in")),
    ("build.rs", include_str!("../template/build.rs.in")),
    ("src/main.rs", include_str!("../template/main.rs.in")),
    (
        "src/bpf/@MODULE@.bpf.c",
        include_str!("../template/prog.bpf.c.in"),
    ),
    ("README.md", include_str!("../template/README.md.in")),
];

/// The checkout this tool was built from.
const CHECKOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

pub fn create(name: &str, path: Option<PathBuf>) -> Result {
    check_name(name)?;
    let dir = Path::new(name);
    if dir.exists() {
        return Err(format!("`{name}` exists already; choose another name").into());
    }
    let module = name.replace('-', "_");
    let (runtime, build) = dependencies(path)?;
    for (file, template) in FILES {
        let target = dir.join(file.replace("@MODULE@", &module));
        let text = template
            .replace("@NAME@", name)
            .replace("@MODULE@", &module)
            .replace("@RUNTIME@", &runtime)
            .replace("@BUILD@", &build);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text).map_err(|e| format!("writing {}: {e}", target.display()))?;
    }
    println!(
        "created `{name}`: cd {name} && cargo build && sudo ./target/debug/{name} --duration 10"
    );
    Ok(())
}

/// A package name that is also a C file name and a Rust module.
fn check_name(name: &str) -> Result {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!(
            "`{name}` is not a usable name: start with a letter, then letters, digits, `_` or `-`"
        )
        .into());
    }
    Ok(())
}

/// The two dependencies, by path into a checkout: the one given, else the
/// one this tool was built from. The crates are not on a registry, so
/// without a checkout there is nothing a project could depend on.
fn dependencies(path: Option<PathBuf>) -> Result<(String, String)> {
    let checkout = match path {
        Some(path) if !path.join("runtime/Cargo.toml").is_file() => {
            return Err(format!(
                "{} is not an ebpf-skeleton checkout (no runtime/Cargo.toml)",
                path.display()
            )
            .into());
        }
        Some(path) => path,
        None => Some(PathBuf::from(CHECKOUT))
            .filter(|p| p.join("runtime/Cargo.toml").is_file())
            .ok_or_else(|| {
                format!(
                    "the ebpf-skeleton checkout this tool was built from ({CHECKOUT}) is gone, and \
                     the crates are not on a registry: pass --path CHECKOUT"
                )
            })?,
    };
    let dir = std::fs::canonicalize(&checkout)?;
    let at = |sub: &str| format!("{{ path = {:?} }}", dir.join(sub).display().to_string());
    Ok((at("runtime"), at("build")))
}
