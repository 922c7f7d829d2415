// Two objects with the same file stem (`profile.bpf.o` in two folders)
// would both be `pub mod profile`: `module = "..."` names each. Here one
// object is expanded twice, under two names.
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o", module = "first_counter");
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o", module = "second_counter");

fn main() {
    // The object keeps its own name; only the module is renamed.
    assert_eq!(first_counter::NAME, "counter");
    assert_eq!(second_counter::NAME, "counter");
    let _: fn() -> ebpf_skeleton::Result<first_counter::Objects> = first_counter::Objects::load;
    let _: fn() -> ebpf_skeleton::Result<second_counter::Specs> = second_counter::Specs::new;
}
