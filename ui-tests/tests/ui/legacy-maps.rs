// iproute2's `struct bpf_elf_map` in a `maps` section: libbpf 1.0 dropped
// that format, so every macro says what it is and what to write instead.
ebpf_skeleton::ebpf_skeleton!("../../objects/legacy-maps.bpf.o");

#[derive(ebpf_skeleton::Objects)]
#[ebpf(object = "../../objects/legacy-maps.bpf.o")]
struct Counter {
    count_packets: ebpf_skeleton::Program,
}

fn main() {}
