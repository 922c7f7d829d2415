// Names that are Rust keywords still give usable fields, and trailing commas
// are accepted.
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/everything.bpf.o",);

fn main() {
    fn _fields(objs: &everything::Objects) {
        let _: &ebpf_skeleton::HashMap<u32, u64> = &objs.maps.r#type;
        let _: &ebpf_skeleton::HashMap<u64, u32> = &objs.maps.self_;
        let _: &ebpf_skeleton::Program = &objs.programs.r#loop;
    }
}
