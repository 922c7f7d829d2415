// A record only used in a local variable is not in the object's BTF: the
// error says why, and what to do.
ebpf_skeleton::ebpf_skeleton!("../../objects/local-record.bpf.o", types = [sample]);

#[ebpf_skeleton::layout(object = "../../objects/local-record.bpf.o", btf = "sample")]
#[repr(C)]
#[derive(Clone, Copy)]
struct Sample {
    pid: u32,
    cpu: u32,
}

fn main() {}
