#[ebpf_skeleton::layout(object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
#[repr(C)]
struct Event {
    pid: u32,
    ppid: u32,
}

fn main() {}
