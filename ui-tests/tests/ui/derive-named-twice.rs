use ebpf_skeleton::*;

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    events: RingBuf,
    #[ebpf(name = "events")]
    again: RingBuf,
}

fn main() {}
