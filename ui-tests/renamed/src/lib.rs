//! The runtime is a dependency named `ebpf` here: the pass cases in
//! `tests/` expand every macro with `crate = "ebpf"`.
