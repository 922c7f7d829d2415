use ebpf_skeleton::*;

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o", pin = "/sys/fs/bpf")]
struct Tracer {
    #[ebpf(nmae = "events")]
    ring: RingBuf,
}

fn main() {}
