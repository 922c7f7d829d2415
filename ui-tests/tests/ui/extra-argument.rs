ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o", 42);

fn main() {}
