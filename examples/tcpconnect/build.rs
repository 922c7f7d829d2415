//! Compiles `bpf/tcpconnect.bpf.c` into `$OUT_DIR/tcpconnect.bpf.o`.

fn main() -> Result<(), ebpf_skeleton_build::Error> {
    ebpf_skeleton_build::Builder::new()
        .source("bpf/tcpconnect.bpf.c")
        .vmlinux_from_kernel()
        .build()?;
    Ok(())
}
