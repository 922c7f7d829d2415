// An object that cannot be read does not hide the attribute mistakes
// found before it: all are reported in one build.
use ebpf_skeleton::*;

#[derive(Objects)]
#[ebpf(object = "../../objects/no-such.bpf.o", crate = "reexports::ebpf")]
struct Tracer {
    events: RingBuf,
}

fn main() {}
