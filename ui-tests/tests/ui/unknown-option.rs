ebpf_skeleton::ebpf_skeleton!("../../../examples/execsnoop/bpf/execsnoop.bpf.o", typs = [event]);

fn main() {}
