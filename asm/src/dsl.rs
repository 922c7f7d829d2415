//! Building instructions in Rust, close to the text form: `AluOp::Add.imm(R1, 4)`
//! is `r1 += 0x4`, `Cond::Eq.imm(R0, 0, "out")` is `if r0 == 0x0 goto out`.
//!
//! Each returns an [`Item`] for a [`Builder`](crate::Builder), which checks
//! them all and resolves the labels.

use crate::builder::Item;
use crate::op::{Call, Op, Source};
use crate::opcode::{AluOp, AtomicOp, Cond, Pseudo, Size, Swap, SwapBits, Width};
use crate::register::Register;

impl AluOp {
    /// `dst op= imm`, 64 bits (`imm` sign-extended).
    pub fn imm(self, dst: Register, imm: i32) -> Item {
        alu(Width::W64, self, dst, Source::Imm(imm))
    }

    /// `dst op= src`, 64 bits.
    pub fn reg(self, dst: Register, src: Register) -> Item {
        alu(Width::W64, self, dst, Source::Reg(src))
    }

    /// `wdst op= imm`, 32 bits.
    pub fn imm32(self, dst: Register, imm: i32) -> Item {
        alu(Width::W32, self, dst, Source::Imm(imm))
    }

    /// `wdst op= wsrc`, 32 bits.
    pub fn reg32(self, dst: Register, src: Register) -> Item {
        alu(Width::W32, self, dst, Source::Reg(src))
    }
}

fn alu(width: Width, op: AluOp, dst: Register, src: Source) -> Item {
    Item::new(Op::Alu {
        width,
        op,
        dst,
        src,
    })
}

impl Cond {
    /// `if dst cond imm goto label`, comparing 64 bits.
    pub fn imm(self, dst: Register, imm: i32, label: impl Into<String>) -> Item {
        jump(Width::W64, self, dst, Source::Imm(imm), label.into())
    }

    /// `if dst cond src goto label`, comparing 64 bits.
    pub fn reg(self, dst: Register, src: Register, label: impl Into<String>) -> Item {
        jump(Width::W64, self, dst, Source::Reg(src), label.into())
    }

    /// `if wdst cond imm goto label`, comparing 32 bits.
    pub fn imm32(self, dst: Register, imm: i32, label: impl Into<String>) -> Item {
        jump(Width::W32, self, dst, Source::Imm(imm), label.into())
    }

    /// `if wdst cond wsrc goto label`, comparing 32 bits.
    pub fn reg32(self, dst: Register, src: Register, label: impl Into<String>) -> Item {
        jump(Width::W32, self, dst, Source::Reg(src), label.into())
    }
}

fn jump(width: Width, cond: Cond, dst: Register, src: Source, label: String) -> Item {
    let op = Op::Jump {
        width,
        cond,
        dst,
        src,
        off: 0,
    };
    Item::with_reference(op, label)
}

/// `dst = -dst`, 64 bits.
pub fn neg(dst: Register) -> Item {
    Item::new(Op::Neg {
        width: Width::W64,
        dst,
    })
}

/// `wdst = -wdst`, 32 bits.
pub fn neg32(dst: Register) -> Item {
    Item::new(Op::Neg {
        width: Width::W32,
        dst,
    })
}

/// `dst = (s8)src` (or s16, s32): a sign-extending move, 64 bits.
pub fn mov_sx(size: Size, dst: Register, src: Register) -> Item {
    Item::new(Op::MovSx {
        width: Width::W64,
        size,
        dst,
        src,
    })
}

/// `wdst = (s8)wsrc` (or s16): a sign-extending move, 32 bits.
pub fn mov_sx32(size: Size, dst: Register, src: Register) -> Item {
    Item::new(Op::MovSx {
        width: Width::W32,
        size,
        dst,
        src,
    })
}

/// `dst = be16 dst` and the other byte swaps.
pub fn swap(swap: Swap, bits: SwapBits, dst: Register) -> Item {
    Item::new(Op::Swap { swap, bits, dst })
}

/// `dst = value ll`
pub fn load_imm64(dst: Register, value: i64) -> Item {
    Item::new(Op::LoadImm64 { dst, value })
}

/// `dst = map(name) ll`: the map, by name, for the loader to resolve.
pub fn load_map(dst: Register, map: impl Into<String>) -> Item {
    pseudo(dst, Pseudo::MapFd, 0, map.into())
}

/// `dst = map_value(name) + offset ll`: the address of the map's value
/// (an array map's first element, a data section) plus `offset`.
pub fn load_map_value(dst: Register, map: impl Into<String>, offset: u32) -> Item {
    pseudo(dst, Pseudo::MapValue, offset as i32, map.into())
}

/// The address of the subprogram at `label` (a callback for helpers such
/// as `bpf_loop`).
pub fn load_func(dst: Register, label: impl Into<String>) -> Item {
    pseudo(dst, Pseudo::Func, 0, label.into())
}

fn pseudo(dst: Register, pseudo: Pseudo, next_imm: i32, name: String) -> Item {
    let op = Op::LoadPseudo {
        dst,
        pseudo,
        imm: 0,
        next_imm,
    };
    Item::with_reference(op, name)
}

/// `dst = *(size *)(src + off)`
pub fn load(size: Size, dst: Register, src: Register, off: i16) -> Item {
    Item::new(Op::Load {
        size,
        sign_extend: false,
        dst,
        src,
        off,
    })
}

/// `dst = *(s8 *)(src + off)` (or s16, s32): a sign-extending load.
pub fn load_sx(size: Size, dst: Register, src: Register, off: i16) -> Item {
    Item::new(Op::Load {
        size,
        sign_extend: true,
        dst,
        src,
        off,
    })
}

/// `*(size *)(dst + off) = src`
pub fn store(size: Size, dst: Register, off: i16, src: Register) -> Item {
    Item::new(Op::Store {
        size,
        dst,
        off,
        src: Source::Reg(src),
    })
}

/// `*(size *)(dst + off) = imm`
pub fn store_imm(size: Size, dst: Register, off: i16, imm: i32) -> Item {
    Item::new(Op::Store {
        size,
        dst,
        off,
        src: Source::Imm(imm),
    })
}

/// An atomic operation on `*(size *)(dst + off)` with `src` (for a
/// load-acquire, `dst` receives the value at `src + off`).
pub fn atomic(op: AtomicOp, size: Size, dst: Register, off: i16, src: Register) -> Item {
    Item::new(Op::Atomic {
        size,
        op,
        dst,
        src,
        off,
    })
}

/// `goto label`
pub fn goto(label: impl Into<String>) -> Item {
    Item::with_reference(Op::Goto { off: 0 }, label)
}

/// `gotol label`: a jump with a 32-bit offset.
pub fn goto_long(label: impl Into<String>) -> Item {
    Item::with_reference(Op::GotoLong { off: 0 }, label)
}

/// `may_goto label`: jumps when the kernel's loop budget runs out.
pub fn may_goto(label: impl Into<String>) -> Item {
    Item::with_reference(Op::MayGoto { off: 0 }, label)
}

/// `call label`: a call of the subprogram starting at `label`. For a
/// helper, use [`Helper::call`](crate::Helper::call).
pub fn call(label: impl Into<String>) -> Item {
    Item::with_reference(Op::Call(Call::Local(0)), label)
}

/// `call kfunc name`: a call of the kernel function `name`, whose BTF id
/// the loader finds.
pub fn call_kfunc(name: impl Into<String>) -> Item {
    let op = Op::Call(Call::Kfunc {
        btf_id: 0,
        module: 0,
    });
    Item::with_reference(op, name)
}

/// `exit`: return `r0`.
pub fn exit() -> Item {
    Item::new(Op::Exit)
}
