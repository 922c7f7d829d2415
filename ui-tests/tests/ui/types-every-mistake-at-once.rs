// Every unknown type name is reported, each at its own span, in one build.
ebpf_skeleton::ebpf_skeleton!("../../../examples/execsnoop/bpf/execsnoop.bpf.o", types = [evnt, event, flow_key]);

fn main() {}
