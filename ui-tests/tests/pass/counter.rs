// The skeleton's API, as users write it; compiled, not run.
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o");

fn main() -> ebpf_skeleton::Result<()> {
    let mut specs = counter::Specs::new()?;
    specs.programs.count_getppid_raw.autoload = false;
    specs.maps.counts.max_entries = 16;
    let objs: counter::Objects = specs.load()?;
    let _links: ebpf_skeleton::Links = objs.attach()?;
    let _count: Option<u64> = objs.maps.counts.get(&1)?;
    let _bytes: Option<Vec<u8>> = objs.maps.counts.map().lookup(&1u32.to_ne_bytes())?;
    let _prog: &ebpf_skeleton::Program = &objs.programs.count_getppid;
    Ok(())
}
