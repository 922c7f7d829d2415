use ebpf_skeleton::*;

// A key or value size mismatch is reported in the same build as the name
// and kind mistakes of other fields.
#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    derive_kep: Program,
    keep_counts: HashMap<u64, u64>,
    events: HashMap<u32, u32>,
}

fn main() {}
