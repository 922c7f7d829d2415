#[ebpf_skeleton::layout(object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
struct Event {
    pid: u32,
    ppid: u32,
    uid: u32,
    comm: [u8; 16],
    filename: [u8; 256],
}

fn main() {}
