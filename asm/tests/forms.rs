//! Every instruction form, in both byte orders, against LLVM 19: our text
//! is what llvm-objdump-19 prints for our bytes, and llvm-mc-19 assembles
//! our text into our bytes, except for the forms LLVM 19 prints lossily or
//! not at all, where the text is this crate's own (listed in `Extension`).

mod llvm;

use std::fs;
use std::path::PathBuf;

use ebpf_skeleton_asm::{
    AluOp, AtomicOp, Call, Cond, Endian, Instruction, Instructions, Op, Pseudo, Register, Size,
    Source, Swap, SwapBits, Width,
};

const SIZES: [Size; 4] = [Size::Byte, Size::Half, Size::Word, Size::DWord];
const WIDTHS: [Width; 2] = [Width::W32, Width::W64];
const IMMS: [i32; 5] = [i32::MIN, -1, 0, 0x7b, i32::MAX];
const OFFS: [i16; 4] = [i16::MIN, -8, 0, i16::MAX];

/// Registers that vary from one instruction to the next.
struct Regs(u8);

impl Regs {
    /// Any register but r10, which most instructions may not write.
    fn dst(&mut self) -> Register {
        self.0 = (self.0 + 3) % 10;
        Register::from_number(self.0).unwrap()
    }

    /// Any register, r10 included.
    fn any(&mut self) -> Register {
        self.0 = (self.0 + 7) % 11;
        Register::from_number(self.0).unwrap()
    }
}

/// Every form the ISA has, each with a few operands.
fn every_form() -> Vec<Op> {
    let mut r = Regs(0);
    let mut ops = Vec::new();
    for width in WIDTHS {
        for op in AluOp::ALL {
            let imms: Vec<i32> = match op {
                _ if op.is_shift() => vec![0, 1, width.bits() as i32 - 1],
                _ if op.is_division() => vec![i32::MIN, -1, 0x7b, i32::MAX],
                _ => IMMS.to_vec(),
            };
            for imm in imms {
                let dst = r.dst();
                ops.push(Op::Alu {
                    width,
                    op,
                    dst,
                    src: Source::Imm(imm),
                });
            }
            let (dst, src) = (r.dst(), r.any());
            ops.push(Op::Alu {
                width,
                op,
                dst,
                src: Source::Reg(src),
            });
        }
        ops.push(Op::Neg {
            width,
            dst: r.dst(),
        });
        for size in [Size::Byte, Size::Half, Size::Word] {
            if width == Width::W32 && size == Size::Word {
                continue;
            }
            let (dst, src) = (r.dst(), r.any());
            ops.push(Op::MovSx {
                width,
                size,
                dst,
                src,
            });
        }
        for cond in Cond::ALL {
            for (imm, off) in IMMS.into_iter().zip(OFFS.into_iter().cycle()) {
                let dst = r.any();
                ops.push(Op::Jump {
                    width,
                    cond,
                    dst,
                    src: Source::Imm(imm),
                    off,
                });
            }
            let (dst, src) = (r.any(), r.any());
            ops.push(Op::Jump {
                width,
                cond,
                dst,
                src: Source::Reg(src),
                off: 5,
            });
        }
    }
    for (dst_space, src_space) in [(0, 1), (1, 0)] {
        let (dst, src) = (r.dst(), r.any());
        ops.push(Op::AddrSpaceCast {
            dst,
            src,
            dst_space,
            src_space,
        });
    }
    for swap in [Swap::ToLe, Swap::ToBe, Swap::Bswap] {
        for bits in [SwapBits::B16, SwapBits::B32, SwapBits::B64] {
            ops.push(Op::Swap {
                swap,
                bits,
                dst: r.dst(),
            });
        }
    }
    for value in [
        0,
        1,
        -1,
        i64::MIN,
        i64::MAX,
        0x7_0000_0005,
        0x8000_0000,
        -0x1_0000_0000,
    ] {
        ops.push(Op::LoadImm64 {
            dst: r.dst(),
            value,
        });
    }
    for pseudo in Pseudo::ALL {
        for imm in [0, 5, -1] {
            ops.push(Op::LoadPseudo {
                dst: r.dst(),
                pseudo,
                imm,
                next_imm: 0,
            });
        }
        if pseudo.uses_next_imm() {
            ops.push(Op::LoadPseudo {
                dst: r.dst(),
                pseudo,
                imm: 5,
                next_imm: 0x10,
            });
        }
    }
    for size in [Size::Byte, Size::Half, Size::Word] {
        for imm in [0, 0x12, -1, i32::MAX] {
            ops.push(Op::LoadPacket {
                size,
                index: None,
                imm,
            });
            ops.push(Op::LoadPacket {
                size,
                index: Some(r.any()),
                imm,
            });
        }
    }
    for size in SIZES {
        for off in OFFS {
            let (dst, src) = (r.dst(), r.any());
            ops.push(Op::Load {
                size,
                sign_extend: false,
                dst,
                src,
                off,
            });
            if size != Size::DWord {
                let (dst, src) = (r.dst(), r.any());
                ops.push(Op::Load {
                    size,
                    sign_extend: true,
                    dst,
                    src,
                    off,
                });
            }
            let (dst, src) = (r.any(), r.any());
            ops.push(Op::Store {
                size,
                dst,
                off,
                src: Source::Reg(src),
            });
            let (dst, imm) = (r.any(), IMMS[off as usize % IMMS.len()]);
            ops.push(Op::Store {
                size,
                dst,
                off,
                src: Source::Imm(imm),
            });
        }
        for op in AtomicOp::ALL {
            let ordered = matches!(op, AtomicOp::LoadAcquire | AtomicOp::StoreRelease);
            if !ordered && !matches!(size, Size::Word | Size::DWord) {
                continue;
            }
            // A fetch writes `src`, a load-acquire `dst`: neither may be r10.
            let (dst, src) = match op {
                AtomicOp::LoadAcquire => (r.dst(), r.any()),
                _ if op.is_plain() || op == AtomicOp::StoreRelease => (r.any(), r.any()),
                _ => (r.any(), r.dst()),
            };
            ops.push(Op::Atomic {
                size,
                op,
                dst,
                src,
                off: -16,
            });
        }
    }
    for off in OFFS {
        ops.push(Op::Goto { off });
        ops.push(Op::MayGoto { off });
    }
    for off in [i32::MIN, -1, 0, 3, i32::MAX] {
        ops.push(Op::GotoLong { off });
        ops.push(Op::Call(Call::Local(off)));
        ops.push(Op::Call(Call::Helper(off)));
    }
    for (btf_id, module) in [(0x1234, 0), (-1, 0), (7, 2)] {
        ops.push(Op::Call(Call::Kfunc { btf_id, module }));
    }
    ops.push(Op::Exit);
    ops
}

/// Where our text is not LLVM 19's default disassembly, and why.
#[derive(Debug, PartialEq)]
enum Extension {
    /// A 32-bit atomic LLVM decodes only with `--mattr=+alu32`, whose text
    /// we print.
    Alu32Atomic,
    /// Load-acquire and store-release: LLVM 21's text; LLVM 19 lacks them.
    Newer,
    /// LLVM 19's text drops a field this text keeps: a subprogram or kfunc
    /// call (printed as a helper call), a second immediate of `ld_pseudo`,
    /// the immediate of an indirect packet load.
    Lossless,
}

fn extension(op: &Op) -> Option<Extension> {
    match *op {
        Op::Atomic {
            op: AtomicOp::LoadAcquire | AtomicOp::StoreRelease,
            ..
        } => Some(Extension::Newer),
        Op::Atomic {
            size: Size::Word,
            op,
            ..
        } if op != AtomicOp::Add => Some(Extension::Alu32Atomic),
        Op::Call(Call::Local(_) | Call::Kfunc { .. }) => Some(Extension::Lossless),
        Op::LoadPseudo { next_imm, .. } if next_imm != 0 => Some(Extension::Lossless),
        Op::LoadPacket {
            index: Some(_),
            imm,
            ..
        } if imm != 0 => Some(Extension::Lossless),
        _ => None,
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(name)
}

/// An object whose `.text` holds `bytes` as they are.
fn object_of(bytes: &[u8], endian: Endian, name: &str) -> PathBuf {
    let mut source = String::from("\t.text\n");
    for chunk in bytes.chunks(8) {
        let list: Vec<String> = chunk.iter().map(|b| format!("{b:#04x}")).collect();
        source += &format!("\t.byte {}\n", list.join(", "));
    }
    assemble(&source, endian, &[], name)
}

fn assemble(source: &str, endian: Endian, extra: &[&str], name: &str) -> PathBuf {
    let input = scratch(&format!("{name}.s"));
    let output = scratch(&format!("{name}.o"));
    fs::write(&input, source).unwrap();
    let triple = match endian {
        Endian::Little => "bpfel",
        Endian::Big => "bpfeb",
    };
    let mut args = vec!["-triple", triple, "-filetype=obj"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", output.to_str().unwrap(), input.to_str().unwrap()]);
    llvm::run("llvm-mc-19", &args);
    output
}

/// The `.text` section's bytes of an object.
fn text_of(path: &PathBuf) -> Vec<u8> {
    use object::{Object, ObjectSection};
    let bytes = fs::read(path).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let text = file.section_by_name(".text").expect(".text");
    text.data().unwrap().to_vec()
}

#[test]
fn every_form_against_llvm() {
    let program: Instructions = every_form()
        .into_iter()
        .map(|op| Instruction::new(op).unwrap_or_else(|e| panic!("{op:?}: {e}")))
        .collect();
    // The jumps' extreme offsets land outside this program, which the
    // assembler refuses; the rest must read back as they print.
    let is_jump = |op: &Op| {
        matches!(
            op,
            Op::Jump { .. } | Op::Goto { .. } | Op::GotoLong { .. } | Op::MayGoto { .. }
        )
    };
    let jump_free: Instructions = program
        .iter()
        .filter(|insn| !is_jump(insn.op()))
        .copied()
        .collect();
    let text = jump_free.to_string();
    assert_eq!(
        text.parse::<Instructions>().unwrap(),
        jump_free,
        "parse(display)"
    );
    let mut counts = [0; 4];
    for endian in [Endian::Little, Endian::Big] {
        let bytes = program.encode_endian(endian);
        assert_eq!(
            Instructions::decode_endian(&bytes, endian).unwrap(),
            program
        );
        let name = format!("forms-{endian:?}");
        let object = object_of(&bytes, endian, &name);
        let plain = &llvm::objdump(&object, &[])[".text"];
        let alu32 = &llvm::objdump(&object, &["--mattr=+alu32"])[".text"];
        assert_eq!(plain.len(), program.len());

        // Our text, where it is LLVM's, assembles to our bytes with llvm-mc.
        let mut source = String::from("\t.text\n");
        let mut expected = Vec::new();
        for (i, insn) in program.iter().enumerate() {
            let ours = insn.to_string();
            match extension(insn.op()) {
                None => {
                    assert_eq!(ours, plain[i].1, "{endian:?} {:?}", insn.op());
                    counts[0] += 1;
                }
                Some(Extension::Alu32Atomic) => {
                    assert_eq!(ours, alu32[i].1, "{endian:?} {:?}", insn.op());
                    counts[1] += 1;
                }
                Some(other) => {
                    assert_ne!(ours, plain[i].1, "{other:?} is LLVM's text after all");
                    counts[if other == Extension::Newer { 2 } else { 3 }] += 1;
                    continue;
                }
            }
            // llvm-mc 19 takes no gotol offset past 16 bits.
            let short = |off: i32| i16::try_from(off).is_ok();
            if matches!(*insn.op(), Op::GotoLong { off } if !short(off)) {
                continue;
            }
            source += &format!("\t{ours}\n");
            insn.encode_into(endian, &mut expected);
        }
        let assembled = assemble(&source, endian, &["-mattr=+alu32"], &format!("{name}-asm"));
        let assembled = text_of(&assembled);
        for (i, (ours, llvm)) in expected.chunks(8).zip(assembled.chunks(8)).enumerate() {
            assert_eq!(
                ours, llvm,
                "{endian:?}: llvm-mc assembles slot {i} differently"
            );
        }
        assert_eq!(expected.len(), assembled.len());
    }
    eprintln!(
        "per byte order: {} instructions print as llvm-objdump-19 prints them, {} as with \
         --mattr=+alu32, {} as LLVM 21 (load-acquire, store-release), {} in this crate's \
         lossless form",
        counts[0] / 2,
        counts[1] / 2,
        counts[2] / 2,
        counts[3] / 2
    );
}
