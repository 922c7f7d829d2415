ebpf_skeleton::ebpf_skeleton!();

fn main() {}
