ebpf_skeleton::ebpf_skeleton!("../../objects/host.o");

fn main() {}
