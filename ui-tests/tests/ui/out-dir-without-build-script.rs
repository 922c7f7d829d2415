// `$OUT_DIR/...` in a crate without a build script: cargo sets no OUT_DIR.
ebpf_skeleton::ebpf_skeleton!("$OUT_DIR/prog.bpf.o");

fn main() {}
