//! Finding and reading the object file, as `include_bytes!` would.

use std::path::{Path, PathBuf};

use syn::LitStr;

use crate::elf;
use crate::model::Object;

/// An object file read at compile time.
pub struct ObjectFile {
    /// The resolved, absolute path, which the expansion embeds.
    pub path: PathBuf,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Reads the object `lit` names (see [`read`]) into the model; an error
/// points at `lit`.
pub fn object(lit: &LitStr, invoked_from: Option<&Path>) -> syn::Result<(ObjectFile, Object)> {
    let file = read(lit, invoked_from)?;
    let object =
        elf::read(&file).map_err(|e| syn::Error::new(lit.span(), e.message(&lit.value())))?;
    Ok((file, object))
}

/// Reads the object `lit` names, relative to the directory of the file that
/// invoked the macro (or the crate's manifest directory if rustc does not
/// say which file that is); `$OUT_DIR/name` is `name` in the directory the
/// crate's build script writes to (where `ebpf-skeleton-build` puts the
/// objects it compiles).
pub fn read(lit: &LitStr, invoked_from: Option<&Path>) -> syn::Result<ObjectFile> {
    let given = lit.value();
    let path = match given.strip_prefix(OUT_DIR) {
        Some(name) => in_out_dir(name).map_err(|e| syn::Error::new(lit.span(), e))?,
        None => resolve(Path::new(&given), invoked_from),
    };
    let path = normalize(&path);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(ObjectFile {
            path: std::fs::canonicalize(&path).unwrap_or(path),
            bytes,
        }),
        Err(e) => Err(syn::Error::new(
            lit.span(),
            format!(
                "cannot read eBPF object `{given}` (resolved to `{}`): {}",
                path.display(),
                describe(&e)
            ),
        )),
    }
}

/// The prefix naming the build script's output directory.
const OUT_DIR: &str = "$OUT_DIR/";

/// `name` in `OUT_DIR`, which cargo sets for crates with a build script.
fn in_out_dir(name: &str) -> Result<PathBuf, String> {
    match std::env::var_os("OUT_DIR") {
        Some(dir) => Ok(PathBuf::from(dir).join(name)),
        None => Err(format!(
            "`$OUT_DIR` is not set, so `{OUT_DIR}{name}` names nothing: cargo sets it for \
             crates with a build script; add a build.rs that compiles the object there \
             (with `ebpf-skeleton-build`)"
        )),
    }
}

fn resolve(given: &Path, invoked_from: Option<&Path>) -> PathBuf {
    if given.is_absolute() {
        return given.to_owned();
    }
    let base = invoked_from
        .and_then(Path::parent)
        .map(absolute)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
        .unwrap_or_default();
    base.join(given)
}

/// rustc reports the invoking file relative to its working directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Removes `.` and `..` without touching the file system, so messages
/// show the path a user would type.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The error's words without the "(os error N)" rustc users rarely need.
fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}
