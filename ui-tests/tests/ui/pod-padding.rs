// Padding would be bytes that are not a value: `#[derive(Pod)]` refuses a
// struct with a gap, and a field that is not plain data.
use ebpf_skeleton::Pod;

#[derive(Clone, Copy, Pod)]
#[repr(C)]
struct Gap {
    tag: u8,
    value: u64,
}

#[derive(Clone, Copy, Pod)]
#[repr(C)]
struct Flag {
    on: bool,
}

fn main() {}
