ebpf_skeleton::ebpf_skeleton!("../../objects/missing.bpf.o");

fn main() {}
