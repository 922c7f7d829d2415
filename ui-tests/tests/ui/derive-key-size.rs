use ebpf_skeleton::*;

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    keep_counts: HashMap<u64, u32>,
}

fn main() {}
