use ebpf_skeleton::*;

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    #[ebpf(name = "events")]
    ring: HashMap<u32, u64>,
}

fn main() {}
