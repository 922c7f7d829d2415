ebpf_skeleton::ebpf_skeleton!("../../../examples/execsnoop/bpf/execsnoop.bpf.o", types = [evnt]);

fn main() {}
