// A skeleton's items live in a module of their own: a relative path to the
// runtime would not resolve there.
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o", crate = "reexports::ebpf");

fn main() {}
