//! Compiles `bpf/pktcount.bpf.c` into `$OUT_DIR/pktcount.bpf.o`.

fn main() -> Result<(), ebpf_skeleton_build::Error> {
    ebpf_skeleton_build::Builder::new()
        .source("bpf/pktcount.bpf.c")
        .vmlinux_from_kernel()
        .build()?;
    Ok(())
}
