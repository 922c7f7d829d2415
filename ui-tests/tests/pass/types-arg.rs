// `types = [...]` generates types nothing else reaches.
ebpf_skeleton::ebpf_skeleton!("../../../examples/execsnoop/bpf/execsnoop.bpf.o", types = [event]);

fn main() {
    let e = execsnoop::types::Event::default();
    assert_eq!(core::mem::size_of_val(&e), 284);
    let _: [u8; 16] = e.comm;
}
