//! The eBPF objects committed in this repository, and the external tools
//! the tests compare them with.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every object file of the repository's tests and examples.
pub fn all() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut objects = Vec::new();
    for dir in ["tests/bpf", "examples/execsnoop/bpf"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".bpf.o") {
                objects.push(path);
            }
        }
    }
    objects.sort();
    assert!(objects.len() >= 20, "{objects:?}");
    objects
}

pub fn file_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

pub fn run_tool(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (./x test installs it): {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}
