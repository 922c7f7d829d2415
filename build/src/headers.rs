//! libbpf's BPF-side headers, written where clang looks for `<bpf/...>`.

use std::path::Path;

use crate::Error;

include!(concat!(env!("OUT_DIR"), "/headers.rs"));

/// Writes `include/bpf/*.h`, leaving files that are already the same
/// untouched (so that nothing looks changed to the next build).
pub fn write(include: &Path) -> Result<(), Error> {
    let dir = include.join("bpf");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
    for (name, contents) in HEADERS {
        write_if_changed(&dir.join(name), contents)?;
    }
    Ok(())
}

/// Writes `contents` unless the file holds them already.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<(), Error> {
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|e| Error::io("writing", path, e))
}
