ebpf_skeleton::ebpf_skeleton!("../../objects/elf32.bpf.o");

fn main() {}
