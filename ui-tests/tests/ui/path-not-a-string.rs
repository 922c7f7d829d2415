ebpf_skeleton::ebpf_skeleton!(counter.bpf.o);

fn main() {}
