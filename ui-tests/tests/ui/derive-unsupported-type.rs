use ebpf_skeleton::*;

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    events: Vec<u8>,
}

fn main() {}
