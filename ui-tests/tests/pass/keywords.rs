// Names that are Rust keywords still give usable fields, and trailing commas
// are accepted.
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/everything.bpf.o",);

fn main() {
    fn _fields(objs: &everything::Objects) {
        let _: &ebpf_skeleton::Map = &objs.maps.r#type;
        let _: &ebpf_skeleton::Map = &objs.maps.self_;
        let _: &ebpf_skeleton::Program = &objs.programs.r#loop;
    }
}
