// Dropping the links `attach()` returns detaches every program at once:
// ignoring them is a warning (here an error), not silence.
#![deny(unused_must_use)]

ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/counter.bpf.o");

fn main() -> ebpf_skeleton::Result<()> {
    let objs = counter::Objects::load()?;
    objs.attach()?;
    objs.programs.count_getppid.attach()?;
    Ok(())
}
