//! Decoding: what the kernel refuses is an error naming the byte offset and
//! what is wrong; what it takes encodes back to the same bytes.

use ebpf_skeleton_asm::{
    AluOp, DecodeErrorKind, Endian, Field, Instruction, Instructions, InvalidInstruction, Op,
    Source, Width, R1, R10,
};

/// A slot in little-endian order: opcode, registers (src << 4 | dst),
/// offset, immediate.
fn slot(code: u8, regs: u8, off: i16, imm: i32) -> Vec<u8> {
    let mut bytes = vec![code, regs];
    bytes.extend_from_slice(&off.to_le_bytes());
    bytes.extend_from_slice(&imm.to_le_bytes());
    bytes
}

fn program(slots: &[Vec<u8>]) -> Vec<u8> {
    slots.concat()
}

fn exit() -> Vec<u8> {
    slot(0x95, 0, 0, 0)
}

fn error_of(bytes: &[u8]) -> (usize, DecodeErrorKind) {
    let error = Instructions::decode_endian(bytes, Endian::Little).unwrap_err();
    (error.offset, error.kind)
}

#[test]
fn truncated_programs_name_the_offset() {
    assert_eq!(
        error_of(&[0x95, 0, 0, 0, 0]),
        (0, DecodeErrorKind::Truncated { remaining: 5 })
    );
    let mut bytes = exit();
    bytes.extend_from_slice(&[0xb7, 0x01, 0]);
    assert_eq!(
        error_of(&bytes),
        (8, DecodeErrorKind::Truncated { remaining: 3 })
    );
    let error = Instructions::decode_endian(&bytes, Endian::Little).unwrap_err();
    assert_eq!(
        error.to_string(),
        "instruction at byte 8 (slot 1): truncated: 3 bytes left, an instruction takes 8"
    );
}

#[test]
fn a_wide_load_needs_its_second_half() {
    let lddw = slot(0x18, 0x01, 0, 7);
    assert_eq!(
        error_of(&program(&[exit(), lddw.clone()])),
        (8, DecodeErrorKind::MissingSecondSlot)
    );
    let bad_second = slot(0x95, 0, 0, 0);
    assert_eq!(
        error_of(&program(&[lddw.clone(), bad_second])),
        (0, DecodeErrorKind::BadSecondSlot)
    );
    let good =
        Instructions::decode_endian(&program(&[lddw, slot(0, 0, 0, 1), exit()]), Endian::Little)
            .unwrap();
    assert_eq!(good.to_string(), "r1 = 0x100000007 ll\nexit\n");
    assert_eq!(good.slot_count(), 3);
}

#[test]
fn unknown_opcodes_are_errors() {
    let error = Instructions::decode_endian(&slot(0x8d, 0x01, 0, 0), Endian::Little).unwrap_err();
    assert_eq!(error.kind, DecodeErrorKind::UnknownOpcode(0x8d));
    assert_eq!(
        error.to_string(),
        "instruction at byte 0 (slot 0), opcode 0x8d: unknown opcode (callx, a call \
         through a register, is not accepted by the kernel)"
    );
    // ALU ops 0xe and 0xf, a sign-extending u64 load, a u64 packet load,
    // LD in MEM mode, an ST in atomic mode, a 32-bit call and exit.
    for code in [0xe4, 0xf7, 0x99, 0x38, 0x60, 0xc2, 0x86, 0x96, 0xe6, 0xf5] {
        assert_eq!(
            error_of(&slot(code, 0, 0, 0)),
            (0, DecodeErrorKind::UnknownOpcode(code)),
            "{code:#x}"
        );
    }
}

#[test]
fn reserved_fields_must_be_zero() {
    let reserved = |field, value| DecodeErrorKind::ReservedField { field, value };
    // exit with an immediate, a helper call with an offset, goto with an
    // immediate, gotol with an offset, an LDX with an immediate, an ST
    // with a source register, neg with an immediate, `r1 = 5` with a source.
    let cases = [
        (slot(0x95, 0, 0, 1), reserved(Field::Imm, 1)),
        (slot(0x95, 0, 2, 0), reserved(Field::Off, 2)),
        (slot(0x85, 0, 1, 1), reserved(Field::Off, 1)),
        (slot(0x05, 0, 1, 1), reserved(Field::Imm, 1)),
        (slot(0x06, 0, 1, 1), reserved(Field::Off, 1)),
        (slot(0x61, 0x21, 0, 4), reserved(Field::Imm, 4)),
        (slot(0x62, 0x21, 0, 4), reserved(Field::Src, 2)),
        (slot(0x87, 0x01, 0, 4), reserved(Field::Imm, 4)),
        (slot(0xb7, 0x21, 0, 4), reserved(Field::Src, 2)),
        (slot(0x07, 0x01, 1, 4), reserved(Field::Off, 1)),
        (slot(0x15, 0x21, 1, 4), reserved(Field::Src, 2)),
    ];
    for (bytes, kind) in cases {
        assert_eq!(error_of(&bytes), (0, kind), "{bytes:x?}");
    }
    let error = Instructions::decode_endian(&slot(0x95, 0, 0, 1), Endian::Little).unwrap_err();
    assert_eq!(
        error.to_string(),
        "instruction at byte 0 (slot 0), opcode 0x95: the immediate is unused by this \
         instruction and must be 0, not 0x1"
    );
}

#[test]
fn registers_past_r10_and_undefined_values() {
    assert_eq!(
        error_of(&slot(0xb7, 0x0b, 0, 0)),
        (
            0,
            DecodeErrorKind::NoSuchRegister {
                field: Field::Dst,
                number: 11
            }
        )
    );
    assert_eq!(
        error_of(&slot(0xbf, 0xf1, 0, 0)),
        (
            0,
            DecodeErrorKind::NoSuchRegister {
                field: Field::Src,
                number: 15
            }
        )
    );
    let unknown = |field, value| DecodeErrorKind::UnknownValue { field, value };
    assert_eq!(
        error_of(&slot(0xdb, 0x21, 0, 0x02)),
        (0, unknown(Field::Imm, 2))
    );
    assert_eq!(
        error_of(&slot(0xd7, 0x01, 0, 8)),
        (0, unknown(Field::Imm, 8))
    );
    assert_eq!(
        error_of(&slot(0xbf, 0x21, 4, 0)),
        (0, unknown(Field::Off, 4))
    );
    assert_eq!(
        error_of(&slot(0x85, 0x30, 0, 0)),
        (0, unknown(Field::Src, 3))
    );
    assert_eq!(
        error_of(&program(&[slot(0x18, 0x71, 0, 0), slot(0, 0, 0, 0)])),
        (0, unknown(Field::Src, 7))
    );
}

#[test]
fn the_kernels_per_instruction_rules() {
    let invalid = DecodeErrorKind::Invalid;
    let cases = [
        // r1 <<= 64, w1 <<= 32, r1 /= 0, r10 = 0, w1 = (s32)w2,
        // addr_space_cast(r2, 0x2, 0x0), a map load by fd with a second
        // immediate, a byte-sized atomic add.
        (
            slot(0x67, 0x01, 0, 64),
            InvalidInstruction::ShiftOutOfRange {
                amount: 64,
                bits: 64,
            },
        ),
        (
            slot(0x64, 0x01, 0, 32),
            InvalidInstruction::ShiftOutOfRange {
                amount: 32,
                bits: 32,
            },
        ),
        (slot(0x37, 0x01, 0, 0), InvalidInstruction::DivisionByZero),
        (
            slot(0xb7, 0x0a, 0, 0),
            InvalidInstruction::WritesFramePointer,
        ),
        (
            slot(0xbc, 0x21, 32, 0),
            InvalidInstruction::MovSxSize {
                width: Width::W32,
                size: ebpf_skeleton_asm::Size::Word,
            },
        ),
        (
            slot(0xbf, 0x21, 1, 0x20000),
            InvalidInstruction::AddrSpaceCast {
                dst_space: 2,
                src_space: 0,
            },
        ),
        (
            slot(0xd3, 0x21, 0, 0),
            InvalidInstruction::AtomicSize {
                op: ebpf_skeleton_asm::AtomicOp::Add,
                size: ebpf_skeleton_asm::Size::Byte,
            },
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(error_of(&bytes), (0, invalid(expected)), "{bytes:x?}");
    }
    assert_eq!(
        error_of(&program(&[slot(0x18, 0x11, 0, 3), slot(0, 0, 0, 8)])),
        (
            0,
            invalid(InvalidInstruction::PseudoNextImm {
                pseudo: ebpf_skeleton_asm::Pseudo::MapFd,
                next_imm: 8
            })
        )
    );
    // The same rules hold for instructions made in Rust.
    let op = Op::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst: R10,
        src: Source::Reg(R1),
    };
    assert_eq!(
        Instruction::new(op),
        Err(InvalidInstruction::WritesFramePointer)
    );
    assert_eq!(
        InvalidInstruction::ShiftOutOfRange {
            amount: 64,
            bits: 64
        }
        .to_string(),
        "a 64-bit shift by 64: the amount must be 0 to 63"
    );
}

#[test]
fn big_endian_puts_the_destination_in_the_high_nibble() {
    // r1 = *(u32 *)(r2 - 2), then r3 += 0x11223344
    let bytes = [
        0x61, 0x12, 0xff, 0xfe, 0, 0, 0, 0, //
        0x07, 0x30, 0, 0, 0x11, 0x22, 0x33, 0x44,
    ];
    let program = Instructions::decode_endian(&bytes, Endian::Big).unwrap();
    assert_eq!(
        program.to_string(),
        "r1 = *(u32 *)(r2 - 0x2)\nr3 += 0x11223344\n"
    );
    assert_eq!(program.encode_endian(Endian::Big), bytes);
    let little = program.encode_endian(Endian::Little);
    assert_eq!(&little[..2], &[0x61, 0x21]);
    assert_eq!(
        Instructions::decode_endian(&little, Endian::Little).unwrap(),
        program
    );
}

#[test]
fn instruction_fields() {
    let (insn, len) = Instruction::decode(&slot(0x61, 0x21, -4, 0), Endian::Little).unwrap();
    assert_eq!(len, 8);
    assert_eq!(
        (
            insn.opcode(),
            insn.dst(),
            insn.src(),
            insn.offset(),
            insn.imm(),
            insn.next_imm()
        ),
        (0x61, 1, 2, -4, 0, None)
    );
    assert_eq!(insn.class(), ebpf_skeleton_asm::Class::Ldx);
    let wide = program(&[slot(0x18, 0x01, 0, -1), slot(0, 0, 0, 0x7fff_ffff)]);
    let (insn, len) = Instruction::decode(&wide, Endian::Little).unwrap();
    assert_eq!(
        (len, insn.next_imm(), insn.slot_count()),
        (16, Some(0x7fff_ffff), 2)
    );
    assert_eq!(insn.to_string(), "r1 = 0x7fffffffffffffff ll");
}

#[test]
fn jumps_must_land_on_an_instruction() {
    // goto -2 from slot 0; goto into the second half of the load at slot 1.
    let out =
        Instructions::decode_endian(&program(&[slot(0x05, 0, -2, 0), exit()]), Endian::Little)
            .unwrap();
    let error = out.check_jumps().unwrap_err();
    assert_eq!(
        error.to_string(),
        "instruction at byte 0 (slot 0), opcode 0x05: the jump lands on slot -1, before the \
         program's first slot (0)"
    );
    let into = program(&[
        slot(0x05, 0, 1, 0),
        slot(0x18, 0x01, 0, 0),
        slot(0, 0, 0, 0),
        exit(),
    ]);
    let into = Instructions::decode_endian(&into, Endian::Little).unwrap();
    assert_eq!(
        into.check_jumps().unwrap_err().kind,
        DecodeErrorKind::BadJump(ebpf_skeleton_asm::BadJump::IntoWideLoad { target: 2 })
    );
    // A call may leave the program: it is linked later.
    let call =
        Instructions::decode_endian(&program(&[slot(0x85, 0x10, 0, -1), exit()]), Endian::Little)
            .unwrap();
    assert_eq!(call.check_jumps(), Ok(()));
}
