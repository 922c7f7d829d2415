// A struct naming part of an object, with `use ebpf_skeleton::*` alone.
use ebpf_skeleton::*;

ebpf_skeleton!("../../../tests/bpf/partial.bpf.o");

#[derive(Objects)]
#[ebpf(object = "../../../tests/bpf/partial.bpf.o")]
struct Tracer {
    derive_keep: Program,
    #[ebpf(name = "keep_counts")]
    counts: HashMap<u32, u64>,
    events: RingBuf,
    bss: Section<partial::BssView>,
    drop_counts: Map,
}

fn main() {
    fn _use(t: Tracer) -> Result<Option<u64>> {
        let _ = (&t.derive_keep, &t.events, t.bss.kept_calls.get(), &t.drop_counts);
        t.counts.get(&1)
    }
    let _: fn() -> Result<Tracer> = Tracer::load;
    let _: fn(LoadOptions) -> Result<Tracer> = Tracer::load_with;
}
