use ebpf_skeleton::*;

ebpf_skeleton!("../../../tests/bpf/partial.bpf.o");

// All mistakes in one struct are reported together.
#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    derive_kep: Program,
    keep_counts: RingBuf,
    #[ebpf(name = "derive_drop")]
    drop_map: HashMap<u32, u64>,
    bsss: Section<partial::BssView>,
}

fn main() {}
