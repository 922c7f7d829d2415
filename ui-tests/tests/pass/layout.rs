// A user's own struct, checked against the object's `struct event`.
#[ebpf_skeleton::layout(object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Event {
    pid: u32,
    ppid: u32,
    uid: u32,
    comm: [u8; 16],
    filename: [u8; 256],
}

fn main() {
    use ebpf_skeleton::Pod;
    let bytes = [0u8; 284];
    let event = Event::read_from_bytes(&bytes).unwrap();
    assert_eq!(event.pid, 0);
}
