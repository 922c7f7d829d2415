//! Compiles `bpf/runqlat.bpf.c` into `$OUT_DIR/runqlat.bpf.o`.

fn main() -> Result<(), ebpf_skeleton_build::Error> {
    ebpf_skeleton_build::Builder::new()
        .source("bpf/runqlat.bpf.c")
        .vmlinux_from_kernel()
        .build()?;
    Ok(())
}
