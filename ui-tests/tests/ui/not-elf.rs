ebpf_skeleton::ebpf_skeleton!("../../objects/not-elf.bpf.o");

fn main() {}
