//! The helper table and the program tag.

use ebpf_skeleton_asm::{
    exit, load_map, AluOp, Builder, Endian, Helper, Instructions, TagHash, R0, R1,
};

#[test]
fn the_helper_table_is_the_kernels() {
    assert_eq!(Helper::ALL.len(), 212);
    for (id, helper) in Helper::ALL.iter().enumerate() {
        assert_eq!(helper.id(), id as i32);
        assert_eq!(Helper::from_id(id as i32), Some(*helper));
        assert_eq!(Helper::from_name(helper.name()), Some(*helper));
        assert_eq!(Helper::from_name(&helper.to_string()), Some(*helper));
    }
    // Spot checks against include/uapi/linux/bpf.h.
    let known = [
        (Helper::MapLookupElem, 1, "map_lookup_elem"),
        (Helper::TailCall, 12, "tail_call"),
        (Helper::GetCurrentPidTgid, 14, "get_current_pid_tgid"),
        (Helper::PerfEventOutput, 25, "perf_event_output"),
        (Helper::ProbeReadKernel, 113, "probe_read_kernel"),
        (Helper::RingbufOutput, 130, "ringbuf_output"),
        (Helper::Loop, 181, "loop"),
        (Helper::UserRingbufDrain, 209, "user_ringbuf_drain"),
        (Helper::CgrpStorageDelete, 211, "cgrp_storage_delete"),
    ];
    for (helper, id, name) in known {
        assert_eq!((helper.id(), helper.name()), (id, name));
    }
    assert_eq!(Helper::from_id(212), None);
    assert_eq!(Helper::from_id(-1), None);
    assert_eq!(Helper::from_name("bpf_no_such_helper"), None);
    assert_eq!(Helper::RingbufOutput.to_string(), "bpf_ringbuf_output");
    assert_eq!(
        Helper::RingbufOutput.call().op(),
        &ebpf_skeleton_asm::Op::Call(ebpf_skeleton_asm::Call::Helper(130))
    );
}

/// Tags that a Linux 6.18 kernel (SHA-256) reported in `bpf_prog_info`
/// for these programs loaded as socket filters on this x86-64 machine,
/// the map loads with an array map's fd. The SHA-1 ones, the algorithm of
/// kernels before 6.18, are Python hashlib's SHA-1 of the same bytes with
/// the map's fd and value offset zeroed (no such kernel was at hand).
#[test]
fn tags_as_the_kernel_computes_them() {
    let cases = [
        ("r0 = 0x0\nexit", "59f4a931744dcdc6", "a04f5eef06a7f555"),
        (
            "ld_pseudo r1, 0x1, 0x3\nr0 = 0x0\nexit",
            "0bd0168676c7c779",
            "2c24d7c519a868e3",
        ),
        (
            "ld_pseudo r1, 0x2, 0x3, 0x4\nr0 = 0x0\nexit",
            "28813e616f1f93d1",
            "e76de9ef2eb663cb",
        ),
    ];
    for (text, sha256, sha1) in cases {
        let program: Instructions = text.parse().unwrap();
        let tag = |hash| program.tag_endian(hash, Endian::Little).to_string();
        assert_eq!(tag(TagHash::Sha256), sha256, "{text}");
        assert_eq!(tag(TagHash::Sha1), sha1, "{text}");
    }
    assert_eq!(TagHash::for_kernel(6, 17), TagHash::Sha1);
    assert_eq!(TagHash::for_kernel(6, 18), TagHash::Sha256);
    assert_eq!(TagHash::for_kernel(7, 0), TagHash::Sha256);
    assert_eq!(TagHash::for_kernel(5, 19), TagHash::Sha1);
}

#[test]
fn the_tag_ignores_map_fds_and_nothing_else() {
    let build = |mov: i32| {
        let mut b = Builder::new();
        b.push(load_map(R1, "m"))
            .push(AluOp::Mov.imm(R0, mov))
            .push(exit());
        b.build().unwrap()
    };
    let mut a = build(0);
    let mut b = build(0);
    a.resolve_maps(|_| Some(3)).unwrap();
    b.resolve_maps(|_| Some(42)).unwrap();
    assert_ne!(a, b);
    for hash in [TagHash::Sha1, TagHash::Sha256] {
        assert_eq!(a.tag(hash), b.tag(hash));
        assert_ne!(build(0).tag(hash), build(1).tag(hash));
        // A plain 64-bit immediate is not a map: its value counts.
        let x: Instructions = "r1 = 0x3 ll\nexit".parse().unwrap();
        let y: Instructions = "r1 = 0x2a ll\nexit".parse().unwrap();
        assert_ne!(x.tag(hash), y.tag(hash));
    }
}
