ebpf_skeleton::ebpf_skeleton!("../../objects/truncated.bpf.o");

fn main() {}
