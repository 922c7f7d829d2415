use ebpf_skeleton::*;

#[derive(Objects)]
struct Tracer {
    events: RingBuf,
}

fn main() {}
