#[ebpf_skeleton::layout(object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "evnt")]
#[repr(C)]
struct Event {
    pid: u32,
}

fn main() {}
