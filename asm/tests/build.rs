//! Building programs in Rust: labels become offsets, names of maps and
//! kfuncs stay for the loader, and every mistake is reported at once.

use ebpf_skeleton_asm::{
    atomic, call, call_kfunc, exit, goto, goto_long, is_name, load, load_func, load_imm64,
    load_map, load_map_value, load_sx, may_goto, mov_sx, mov_sx32, neg, neg32, store, store_imm,
    swap, AluOp, AtomicOp, BuildError, BuildErrorKind, Builder, Call, Cond, Helper, Instructions,
    InvalidInstruction, Item, Op, ReferenceKind, Size, Swap, SwapBits, R0, R1, R10, R2, R3, R6,
};

fn errors(builder: &Builder) -> Vec<BuildError> {
    builder.build().unwrap_err().0
}

#[test]
fn every_constructor_prints_its_text() {
    let mut b = Builder::new();
    b.push(AluOp::Add.imm(R1, -4))
        .push(AluOp::SDiv.reg(R1, R2))
        .push(AluOp::Arsh.imm32(R3, 3))
        .push(AluOp::Mov.reg32(R0, R6))
        .push(neg(R1))
        .push(neg32(R1))
        .push(mov_sx(Size::Word, R1, R2))
        .push(mov_sx32(Size::Byte, R1, R2))
        .push(swap(Swap::ToBe, SwapBits::B16, R1))
        .push(load_imm64(R1, -2))
        .push(load(Size::Half, R1, R10, -2))
        .push(load_sx(Size::Byte, R1, R2, 3))
        .push(store(Size::DWord, R10, -8, R1))
        .push(store_imm(Size::Byte, R10, -1, 0x7f))
        .push(atomic(AtomicOp::FetchAdd, Size::DWord, R10, -8, R1))
        .push(atomic(AtomicOp::LoadAcquire, Size::Byte, R1, 0, R2))
        .push(Cond::SLt.reg32(R1, R2, "end"))
        .push(may_goto("end"))
        .push(goto_long("end"))
        .push(Helper::GetCurrentPidTgid.call())
        .label("end")
        .push(exit());
    assert_eq!(
        b.build().unwrap().to_string(),
        "\
r1 += -0x4
r1 s/= r2
w3 s>>= 0x3
w0 = w6
r1 = -r1
w1 = -w1
r1 = (s32)r2
w1 = (s8)w2
r1 = be16 r1
r1 = -0x2 ll
r1 = *(u16 *)(r10 - 0x2)
r1 = *(s8 *)(r2 + 0x3)
*(u64 *)(r10 - 0x8) = r1
*(u8 *)(r10 - 0x1) = 0x7f
r1 = atomic_fetch_add((u64 *)(r10 - 0x8), r1)
w1 = load_acquire((u8 *)(r2 + 0x0))
if w1 s< w2 goto end
may_goto end
gotol end
call 0xe
end:
exit
"
    );
}

#[test]
fn labels_become_offsets_counting_slots() {
    let mut b = Builder::new();
    b.label("top")
        .push(AluOp::Mov.imm(R0, 0))
        .push(Cond::Gt.imm(R1, 3, "out")) // slot 1: out is slot 5
        .push(load_imm64(R2, 1)) // slots 2 and 3
        .push(goto("top")) // slot 4: back to 0
        .label("out")
        .push(exit());
    let program = b.build().unwrap();
    let offset = |i: usize| program[i].op().relative_target();
    assert_eq!((offset(1), offset(3)), (Some(3), Some(-5)));
    assert_eq!(program.label("out"), Some(4));
    assert_eq!(program.reference(1), Some("out"));
    let raw = program.encode_endian(ebpf_skeleton_asm::Endian::Little);
    assert_eq!(&raw[8..12], &[0x25, 0x01, 3, 0]);
    // The text keeps the names and reads back to the same program.
    assert_eq!(
        program.to_string().parse::<Instructions>().unwrap(),
        program
    );
}

#[test]
fn subprogram_calls_and_addresses() {
    let mut b = Builder::new();
    b.push(load_func(R2, "callback"))
        .push(call("callback"))
        .push(exit())
        .label("callback")
        .push(AluOp::Mov.imm(R0, 1))
        .push(exit());
    let program = b.build().unwrap();
    assert_eq!(
        program.to_string(),
        "ld_pseudo\tr2, 0x4, callback\ncall callback\nexit\ncallback:\nr0 = 0x1\nexit\n"
    );
    // The kernel's target is the slot after the instruction's first plus
    // the offset: from slot 0 (a two-slot load) and from slot 2 to slot 4.
    assert_eq!(program[0].imm(), 3);
    assert_eq!(program[1].op(), &Op::Call(Call::Local(1)));
    assert_eq!(
        program.to_string().parse::<Instructions>().unwrap(),
        program
    );
}

#[test]
fn maps_and_kfuncs_are_left_to_the_loader() {
    let mut b = Builder::new();
    b.push(load_map(R1, "counts"))
        .push(load_map_value(R2, "prog.bss", 0x10))
        .push(call_kfunc("bpf_task_acquire"))
        .push(exit());
    let mut program = b.build().unwrap();
    assert_eq!(
        program.to_string(),
        "r1 = map(counts) ll\nr2 = map_value(prog.bss) + 0x10 ll\ncall kfunc bpf_task_acquire\nexit\n"
    );
    let kinds: Vec<_> = program
        .references()
        .map(|(i, kind, name)| (i, kind, name.to_owned()))
        .collect();
    assert_eq!(
        kinds,
        [
            (0, ReferenceKind::Map, "counts".to_owned()),
            (1, ReferenceKind::Map, "prog.bss".to_owned()),
            (2, ReferenceKind::Kernel, "bpf_task_acquire".to_owned()),
        ]
    );
    assert_eq!(
        program.to_string().parse::<Instructions>().unwrap(),
        program
    );

    let before = program.tag(ebpf_skeleton_asm::TagHash::Sha256);
    let unknown = program
        .clone()
        .resolve_maps(|name| (name == "counts").then_some(7));
    assert_eq!(unknown.unwrap_err().to_string(), "no map named `prog.bss`");
    program
        .resolve_maps(|name| Some(if name == "counts" { 7 } else { 8 }))
        .unwrap();
    assert_eq!(
        program.to_string(),
        "ld_pseudo\tr1, 0x1, 0x7\nld_pseudo\tr2, 0x2, 0x8, 0x10\ncall kfunc bpf_task_acquire\nexit\n"
    );
    // The kernel's tag does not depend on map fds.
    assert_eq!(program.tag(ebpf_skeleton_asm::TagHash::Sha256), before);
}

#[test]
fn every_mistake_at_once() {
    let mut b = Builder::new();
    b.label("twice")
        .push(Cond::Eq.imm(R0, 0, "nowhere"))
        .label("twice")
        .push(AluOp::Lsh.imm(R1, 64))
        .push(Item::with_reference(Op::Exit, "name"))
        .push(goto("r1"))
        .label("end");
    let kinds: Vec<(usize, BuildErrorKind)> =
        errors(&b).into_iter().map(|e| (e.index, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, BuildErrorKind::DuplicateLabel("twice".into())),
            (4, BuildErrorKind::LabelAtEnd("end".into())),
            (0, BuildErrorKind::MissingLabel("nowhere".into())),
            (
                1,
                BuildErrorKind::Invalid(InvalidInstruction::ShiftOutOfRange {
                    amount: 64,
                    bits: 64
                })
            ),
            (2, BuildErrorKind::NoReference("name".into())),
            (3, BuildErrorKind::BadName("r1".into())),
        ]
    );
    assert_eq!(
        b.build().unwrap_err().to_string().lines().next(),
        Some("instruction 1: the label `twice` is defined twice")
    );
}

#[test]
fn jumps_too_far_for_their_offset() {
    let mut b = Builder::new();
    b.push(goto("far")).push(goto_long("far"));
    for _ in 0..40_000 {
        b.push(AluOp::Mov.imm(R0, 0));
    }
    b.label("far").push(exit());
    let errors = errors(&b);
    assert_eq!(
        errors,
        [BuildError {
            index: 0,
            kind: BuildErrorKind::OutOfRange {
                label: "far".into(),
                distance: 40_001
            }
        }]
    );
}

#[test]
fn names() {
    for good in [
        "out",
        "LBB0_2",
        ".bss",
        "prog.rodata",
        "_x",
        "r11",
        "w01",
        "s",
    ] {
        assert!(is_name(good), "{good}");
    }
    for bad in ["", "1x", "r0", "w10", "pc", "kfunc", "a-b", "a b"] {
        assert!(!is_name(bad), "{bad}");
    }
}
