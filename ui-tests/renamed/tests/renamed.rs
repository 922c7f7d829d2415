//! Pass cases with the runtime renamed to `ebpf` in Cargo.toml: every macro
//! takes `crate = "..."`, and `ebpf_skeleton` names nothing here.

use std::mem::size_of;

ebpf::ebpf_skeleton!(
    "../../../tests/bpf/types.bpf.o",
    crate = "ebpf",
    types = [packed_hdr]
);
ebpf::ebpf_skeleton!("../../../tests/bpf/everything.bpf.o", crate = "ebpf");
ebpf::ebpf_skeleton!("../../../tests/bpf/partial.bpf.o", crate = "ebpf");

#[derive(ebpf::Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o", crate = "ebpf")]
struct Tracer {
    derive_keep: ebpf::Program,
    #[ebpf(name = "keep_counts")]
    counts: ebpf::HashMap<u32, u64>,
    bss: ebpf::Section<partial::BssView>,
}

#[ebpf::layout(
    object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o",
    btf = "event",
    crate = "ebpf"
)]
#[repr(C)]
#[derive(Clone, Copy)]
struct Event {
    pid: u32,
    ppid: u32,
    uid: u32,
    comm: [u8; 16],
    filename: [u8; 256],
}

/// Renamed and without a prelude: an absolute path.
mod bare {
    #![no_implicit_prelude]
    ::ebpf::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o", crate = "::ebpf");
}

#[test]
fn generated_items_work_under_the_new_name() {
    fn _use(t: Tracer) -> ebpf::Result<Option<u64>> {
        let _ = (&t.derive_keep, t.bss.kept_calls.get());
        t.counts.get(&1)
    }
    let _: fn(Tracer) -> _ = _use;
    let _: fn() -> ebpf::Result<Tracer> = Tracer::load;
    let _: fn() -> ebpf::Result<bare::counter::Objects> = bare::counter::Objects::load;
    let hdr = types::types::PackedHdr::default();
    assert_eq!(size_of::<types::types::PackedHdr>(), 7);
    assert_eq!(hdr, types::types::PackedHdr::default());
    assert_eq!(format!("{:?}", types::types::Color::BLUE), "BLUE");
    assert_eq!(size_of::<Event>(), 284);
    assert_eq!(everything::NAME, "everything");
    // The embedded object opens (no privileges needed) through `ebpf`.
    let specs = types::Specs::new().expect("open the embedded object");
    assert_eq!(specs.rodata.multiplier, 1);
}
