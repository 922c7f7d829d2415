ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o");

fn main() {
    // A map that is not in the object is not a field: caught at compile time.
    let objs = counter::Objects::load().unwrap();
    let _ = &objs.maps.cuonts;
}
