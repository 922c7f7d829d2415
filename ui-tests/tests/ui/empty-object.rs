ebpf_skeleton::ebpf_skeleton!("../../objects/empty.bpf.o");

fn main() {}
