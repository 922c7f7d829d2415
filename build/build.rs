//! Embeds libbpf's BPF-side headers (`bpf_helpers.h`, ...) from the copy
//! libbpf-sys builds and installs, so that users need no libbpf-dev.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let include = std::env::var_os("DEP_BPF_INCLUDE")
        .map(PathBuf::from)
        .expect("libbpf-sys says where its headers are (DEP_BPF_INCLUDE)");
    let dir = include.join("bpf");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".h"))
        .collect();
    names.sort();
    let mut table = String::from("/// libbpf's headers: (file name, contents).\n");
    table.push_str("pub const HEADERS: &[(&str, &[u8])] = &[\n");
    for name in &names {
        let path = dir.join(name);
        writeln!(
            table,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .unwrap();
        println!("cargo:rerun-if-changed={}", path.display());
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("headers.rs"), table).expect("writing headers.rs");
}
