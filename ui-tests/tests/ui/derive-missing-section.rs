use ebpf_skeleton::*;

ebpf_skeleton!("../../../tests/bpf/partial.bpf.o");

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    #[ebpf(name = ".data")]
    data: Section<partial::BssView>,
}

fn main() {}
