//! Compiles `bpf/opensnoop.bpf.c` into `$OUT_DIR/opensnoop.bpf.o`.

fn main() -> Result<(), ebpf_skeleton_build::Error> {
    ebpf_skeleton_build::Builder::new()
        .source("bpf/opensnoop.bpf.c")
        .vmlinux_from_kernel()
        .build()?;
    Ok(())
}
