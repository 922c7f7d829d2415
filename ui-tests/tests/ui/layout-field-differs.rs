#[ebpf_skeleton::layout(object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
#[repr(C)]
#[derive(Clone, Copy)]
struct Event {
    pid: u64,
    ppid: u32,
    uid: u32,
    comm: [u8; 16],
    filename: [u8; 256],
}

fn main() {}
