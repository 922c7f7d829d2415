// Two skeletons in one module do not clash.
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o");
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/kprobe.bpf.o");

fn main() {
    assert_eq!(counter::NAME, "counter");
    assert_eq!(kprobe::NAME, "kprobe");
}
