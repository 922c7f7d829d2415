//! Generated types and global sections against the kernel: a program fills
//! a struct of many shapes and Rust reads it through the generated type;
//! Rust writes one and the program checks each field; globals set before
//! load change what the program does, and the live views see its writes.

use std::mem::{offset_of, size_of};

use ebpf_skeleton::Pod;
use ebpf_skeleton::{ebpf_skeleton, UpdateFlags};
use ebpf_skeleton_tests::btf_layout;
use ebpf_skeleton_tests::kernel::kernel;

ebpf_skeleton!("../bpf/types.bpf.o", types = [packed_hdr]);

use types::types::{Big, Color, Delta, Inner, PackedHdr, Shapes};

fn shape(objs: &types::Objects, index: u32) -> Shapes {
    // Through the byte map and `Pod`, to check the generated type alone.
    let bytes = objs
        .maps
        .shapes
        .map()
        .lookup(&index.to_ne_bytes())
        .unwrap()
        .unwrap();
    Shapes::read_from_bytes(&bytes).expect("a value of the map's size")
}

#[test]
fn the_kernel_s_struct_reads_back_field_by_field() {
    let objs = types::Objects::load().expect("load types.bpf.o");
    assert_eq!(objs.programs.fill.test_run(None).unwrap(), 0);
    let s = shape(&objs, 0);
    assert_eq!(s.tag, 7);
    assert_eq!(s.wide, 0x1122334455667788);
    assert_eq!((s.u.halves().lo, s.u.halves().hi), (0xbeef, 0xdead));
    assert_eq!(s.u.as_u32(), 0xdead_beef);
    assert_eq!(s.u.as_bytes(), [0xef, 0xbe, 0xad, 0xde]);
    assert_eq!((s.__anon_0.x, s.__anon_0.y), (10, 20));
    assert_eq!(s.pairs.map(|p| (p.a, p.b)), [(100, 0), (101, 1), (102, 2)]);
    assert_eq!(s.grid, [[0, 1, 2], [10, 11, 12]]);
    assert_eq!(&s.name[..7], b"kernel\0");
    assert_eq!(s.ok, 1);
    assert_eq!((s.ratio, s.precise), (0.5, 2.5));
    assert_eq!(s.color, Color::BLUE);
    assert_eq!(s.big, Big::BIG_TOP);
    assert_eq!(s.trend, Delta::DOWN);
    assert_eq!(format!("{:?}", s.trend), "DOWN");
    assert_eq!(s.next, 0xffff888000001000);
    let f = s.flags;
    assert_eq!(
        (f.kind(), f.level(), f.delta(), f.rest(), f.tail),
        (9, 5, -100, 0xabcd, 0xee)
    );
    assert_eq!((f.wide_bits(), f.more()), (0x12345678ff, 0x654321));
}

#[test]
fn rust_s_struct_reads_right_in_the_kernel() {
    let objs = types::Objects::load().expect("load");
    let mut s = Shapes {
        tag: 3,
        ..Default::default()
    };
    s.u.set_as_u32(0x01020304);
    s.__anon_0.y = 42;
    s.pairs[2] = Inner {
        a: 555,
        ..Default::default()
    };
    s.grid[1][2] = 12;
    s.flags.set_kind(3);
    s.flags.set_level(7);
    s.flags.set_delta(-5);
    s.flags.set_wide_bits(0xabcdef0123);
    s.flags.set_more(0x10);
    s.big = Big::BIG_HUGE;
    s.name[..4].copy_from_slice(b"rust");
    objs.maps
        .shapes
        .map()
        .update(&1u32.to_ne_bytes(), s.as_bytes(), UpdateFlags::ANY)
        .unwrap();
    // The typed map reads the same value back.
    assert_eq!(objs.maps.shapes.get(1).unwrap(), Some(s));
    objs.programs.check.test_run(None).unwrap();
    assert_eq!(
        objs.bss.check_result.get(),
        0x3ff,
        "every field the program checked matched"
    );
}

#[test]
fn unknown_enum_values_stay_representable() {
    let odd = Color(3);
    assert_eq!(odd.name(), None);
    assert_eq!(format!("{odd:?}"), "Color(3)");
    assert_eq!(Big::BIG_HUGE.0, 0x1_0000_0000);
    assert_eq!(size_of::<Big>(), 8);
    assert_eq!(Delta::DOWN.0, -1);
}

#[test]
fn layouts_match_libbpf_s_reading_of_the_btf() {
    let bytes = types::bytes();
    let check = |name: &str, size: usize, offsets: &[(&str, usize)]| {
        let layout = btf_layout(bytes, name);
        assert_eq!(layout.size, size, "size of {name}");
        for (field, offset) in offsets {
            assert_eq!(layout.offset_of(field), Some(*offset * 8), "{name}.{field}");
        }
    };
    check(
        "shapes",
        size_of::<Shapes>(),
        &[
            ("tag", offset_of!(Shapes, tag)),
            ("wide", offset_of!(Shapes, wide)),
            ("u", offset_of!(Shapes, u)),
            ("pairs", offset_of!(Shapes, pairs)),
            ("grid", offset_of!(Shapes, grid)),
            ("name", offset_of!(Shapes, name)),
            ("ok", offset_of!(Shapes, ok)),
            ("ratio", offset_of!(Shapes, ratio)),
            ("precise", offset_of!(Shapes, precise)),
            ("color", offset_of!(Shapes, color)),
            ("big", offset_of!(Shapes, big)),
            ("trend", offset_of!(Shapes, trend)),
            ("next", offset_of!(Shapes, next)),
            ("flags", offset_of!(Shapes, flags)),
        ],
    );
    check(
        "inner",
        size_of::<Inner>(),
        &[("a", 0), ("b", offset_of!(Inner, b))],
    );
    check(
        "packed_hdr",
        size_of::<PackedHdr>(),
        &[
            ("a", offset_of!(PackedHdr, a)),
            ("b", offset_of!(PackedHdr, b)),
            ("c", offset_of!(PackedHdr, c)),
        ],
    );
    assert_eq!(size_of::<PackedHdr>(), 7);
    assert_eq!(
        size_of::<types::types::HandleT>(),
        btf_layout(bytes, "handle_t").size
    );
}

#[test]
fn globals_set_before_load_reach_the_program() {
    let mut specs = types::Specs::new().expect("open");
    // Initial values come from the object.
    assert_eq!(specs.rodata.multiplier, 1);
    assert_eq!(specs.rodata.favourite, Color::GREEN);
    assert_eq!(specs.data.data_value, 17);
    assert_eq!(specs.data_stats.stats_hits, 5);
    assert_eq!(specs.data_stats.stats_flags, [1, 2, 3]);
    assert_eq!(specs.rodata_limits.limit, 100);
    assert_eq!(specs.bss.runs, 0);

    specs.rodata.multiplier = 3;
    specs.rodata_limits.limit = 7;
    specs.bss.input = 1000;
    specs.data.data_value = 99;
    let objs = specs.load().expect("load");

    // The constant changed the program: `fill` multiplies by it.
    objs.programs.fill.test_run(None).unwrap();
    assert_eq!(shape(&objs, 0).wide, 0x1122334455667788u64.wrapping_mul(3));

    // Live memory: the program's writes are visible, ours reach it.
    assert_eq!(objs.bss.runs.get(), 1);
    assert_eq!(
        objs.bss.last_inner.get(),
        Inner {
            a: 77,
            b: 8,
            ..Default::default()
        }
    );
    assert_eq!(objs.data.data_value.get(), 99);
    assert_eq!(objs.rodata.multiplier.get(), 3);
    objs.programs.check.test_run(None).unwrap();
    assert_eq!(objs.bss.echoed.get(), 1000 * 3 + 7);
    objs.bss.input.set(5);
    objs.programs.check.test_run(None).unwrap();
    assert_eq!(objs.bss.echoed.get(), 5 * 3 + 7);

    // bss counters the kernel increments, read through the mmap.
    for _ in 0..4 {
        objs.programs.fill.test_run(None).unwrap();
    }
    assert_eq!(objs.bss.runs.get(), 5);
    assert_eq!(
        objs.bss
            .runs
            .atomic()
            .fetch_add(10, std::sync::atomic::Ordering::SeqCst),
        5
    );
    objs.programs.fill.test_run(None).unwrap();
    assert_eq!(objs.bss.runs.get(), 16);
    assert_eq!(objs.data_stats.stats_hits.get(), 5);
}

#[test]
fn kconfig_values_come_from_the_running_kernel() {
    let objs = types::Objects::load().expect("load");
    let kconfig = &objs.kconfig;
    // The kernel's own LINUX_VERSION_CODE: 6.1.176 on Debian's 6.1, whose
    // release string says 6.1.0-50 (libbpf reads Debian's version too).
    assert_eq!(
        kconfig.LINUX_KERNEL_VERSION.get(),
        kernel().version_code,
        "LINUX_KERNEL_VERSION of kernel {}",
        kernel().release
    );
    assert!(kconfig.CONFIG_BPF_SYSCALL.get(), "a C bool is a Rust bool");
    assert!(
        kconfig.CONFIG_HZ.get() >= 100,
        "HZ {}",
        kconfig.CONFIG_HZ.get()
    );
    assert_eq!(
        kconfig.CONFIG_NOT_A_REAL_OPTION.get(),
        0,
        "a weak option the kernel lacks is 0"
    );
    // The program sees the same values.
    objs.programs.check.test_run(None).unwrap();
    let expected =
        u64::from(kconfig.LINUX_KERNEL_VERSION.get()) + 1 + kconfig.CONFIG_HZ.get() as u64;
    assert_eq!(objs.bss.kconfig_seen.get(), expected);
}
