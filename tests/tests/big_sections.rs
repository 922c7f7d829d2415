//! Data sections larger than a thread's stack (tests/bpf/big_bss.bpf.c, a
//! 4 MB `.bss`, the most Linux 5.10 takes; schedulers have hundreds of
//! megabytes): `Specs` holds them on the heap, so opening, setting and
//! loading work on a test thread's 2 MB stack, and the live view reaches
//! both ends of the kernel's memory one element at a time.

use ebpf_skeleton::ebpf_skeleton;
use ebpf_skeleton_tests::{getppid_n, tid};

ebpf_skeleton!("../bpf/big_bss.bpf.o");

const BIG: usize = (4 << 20) - 8;

#[test]
fn a_section_larger_than_the_stack_opens_sets_and_loads() {
    assert_eq!(size_of::<big_bss::Bss>(), 4 << 20);
    let mut specs = big_bss::Specs::new().expect("open");
    assert_eq!(specs.bss.table[BIG - 1], 0);
    // A starting value far into the section, set before load.
    specs.bss.table[BIG / 2] = 7;
    specs.rodata.target_tid = tid();
    let objs = specs.load().expect("load");
    let _links = objs.attach().expect("attach");
    getppid_n(1);
    assert_eq!(objs.bss.seen.get(), 1);
    // Element by element: a copy of the whole array would not fit a stack.
    let table = &objs.bss.table;
    let byte = |i| table.at(i).expect("in the section").get();
    assert_eq!((byte(0), byte(BIG / 2), byte(BIG - 1)), (1, 7, 2));
    assert!(table.at(BIG).is_none());
    table.at(BIG - 1).unwrap().set(9);
    assert_eq!(byte(BIG - 1), 9);
}
