use ebpf_skeleton::*;

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
#[ebpf(object = "../../../tests/bpf/counter.bpf.o")]
struct Tracer {
    derive_keep: Program,
}

fn main() {}
