//! Generated code names everything by its full path: all three macros
//! compile where no prelude is in scope.
#![no_implicit_prelude]

::ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/types.bpf.o", types = [packed_hdr]);
::ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/everything.bpf.o");
::ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/partial.bpf.o");

#[derive(::ebpf_skeleton::Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    derive_keep: ::ebpf_skeleton::Program,
    #[ebpf(name = "keep_counts")]
    counts: ::ebpf_skeleton::HashMap<u32, u64>,
    events: ::ebpf_skeleton::RingBuf,
    bss: ::ebpf_skeleton::Section<partial::BssView>,
}

#[::ebpf_skeleton::layout(object = "../../../examples/execsnoop/bpf/execsnoop.bpf.o", btf = "event")]
#[repr(C)]
#[derive(::core::clone::Clone, ::core::marker::Copy)]
struct Event {
    pid: u32,
    ppid: u32,
    uid: u32,
    comm: [u8; 16],
    filename: [u8; 256],
}

fn main() {
    fn _use(t: Tracer) -> ::ebpf_skeleton::Result<::core::option::Option<u64>> {
        let _ = (&t.derive_keep, &t.events, t.bss.kept_calls.get());
        t.counts.get(&1)
    }
    let _: fn() -> ::ebpf_skeleton::Result<Tracer> = Tracer::load;
    let _: fn() -> ::ebpf_skeleton::Result<types::Objects> = types::Objects::load;
    let _: types::types::PackedHdr = ::core::default::Default::default();
    let _ = (everything::NAME, ::core::mem::size_of::<Event>());
}
