//! Generated items are documented: a public skeleton passes `missing_docs`.
#![deny(missing_docs)]

ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/types.bpf.o", types = [packed_hdr]);
ebpf_skeleton::ebpf_skeleton!("../../../tests/bpf/everything.bpf.o");

/// Uses the skeletons.
fn main() {
    let _ = types::NAME;
    let _ = everything::NAME;
}
