//! Real-world BTF: the kernel's own `task_struct`, `sk_buff`, `inode`, ...
//! as globals and map types. Every generated layout is asserted against
//! the macro's reading of the BTF at compile time; here they are compared
//! with libbpf's reading too, and the object loads and runs.
//!
//! A generated kernel struct has the layout of the object's BTF, the
//! kernel the object was built against, whatever kernel runs it: globals
//! and map values are the object's memory, and their Rust view reads them
//! at the object's offsets. CO-RE moves a program's reads of the kernel's
//! own memory to the running kernel's offsets; a program that stores a
//! kernel struct in its own memory writes it at the object's offsets
//! (kernel_types.bpf.c shows how), so Rust reads what it wrote on every
//! kernel.

use std::mem::size_of;
use std::time::Duration;

use ebpf_skeleton::ebpf_skeleton;
use ebpf_skeleton_tests::{btf_layout, eventually};

ebpf_skeleton!("../bpf/kernel_types.bpf.o");

use kernel_types::types::{
    File, In6Addr, Inode, MmStruct, NetDevice, Page, SkBuff, SuperBlock, TaskStruct,
};

#[test]
fn kernel_struct_sizes_match_libbpf() {
    let bytes = kernel_types::bytes();
    for (name, size) in [
        ("task_struct", size_of::<TaskStruct>()),
        ("sk_buff", size_of::<SkBuff>()),
        ("inode", size_of::<Inode>()),
        ("file", size_of::<File>()),
        ("net_device", size_of::<NetDevice>()),
        ("super_block", size_of::<SuperBlock>()),
        ("page", size_of::<Page>()),
        ("mm_struct", size_of::<MmStruct>()),
        ("in6_addr", size_of::<In6Addr>()),
    ] {
        assert_eq!(btf_layout(bytes, name).size, size, "struct {name}");
    }
    let task = btf_layout(bytes, "task_struct");
    assert_eq!(
        task.offset_of("pid"),
        Some(std::mem::offset_of!(TaskStruct, pid) * 8)
    );
    assert_eq!(
        task.offset_of("comm"),
        Some(std::mem::offset_of!(TaskStruct, comm) * 8)
    );
}

#[test]
fn an_object_of_kernel_structs_loads_and_its_globals_are_live() {
    let specs = kernel_types::Specs::new().expect("open");
    assert_eq!(specs.bss.task_copy.pid, 0);
    let objs = specs.load().expect("load");
    let _links = objs.attach().expect("attach");
    // Context switches happen all the time; the program counts them and
    // writes into the kernel-sized struct.
    assert!(eventually(Duration::from_secs(5), || objs
        .bss
        .switches
        .get()
        > 0));
    // Written at the object's offset of `pid`, which is where Rust reads
    // it, on a kernel whose task_struct puts pid elsewhere too.
    assert_eq!(objs.bss.task_copy.get().pid, 1);
    assert!(objs.maps.mms.get(&In6Addr::default()).unwrap().is_none());
}
