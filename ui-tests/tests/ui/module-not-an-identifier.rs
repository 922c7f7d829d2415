// The module must be named by a Rust identifier, and named once.
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o", module = "my-counter");
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o", module = "a", module = "b");

fn main() {}
