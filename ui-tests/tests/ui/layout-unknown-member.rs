#[ebpf_skeleton::layout(object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
#[repr(C)]
struct Event {
    pid: u32,
    ppidd: u32,
    uid: u32,
    comm: [u8; 16],
    filename: [u8; 256],
}

fn main() {}
