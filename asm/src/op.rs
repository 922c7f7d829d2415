//! What an instruction does, as one Rust enum: the typed view of the five
//! encoded fields. An [`Op`] may still break a rule the kernel enforces;
//! [`Instruction::new`](crate::Instruction::new) checks it.

use crate::opcode::{AluOp, AtomicOp, Cond, Pseudo, Size, Swap, SwapBits, Width};
use crate::register::Register;

/// The second operand of an arithmetic, jump or store instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Source {
    /// The 32-bit immediate (`K`), sign-extended for 64-bit operations.
    Imm(i32),
    /// A register (`X`).
    Reg(Register),
}

/// What a call instruction calls.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Call {
    /// The kernel helper with this id (see [`Helper`](crate::Helper)).
    Helper(i32),
    /// The BPF subprogram starting this many instructions after the next
    /// one (`BPF_PSEUDO_CALL`).
    Local(i32),
    /// The kernel function (kfunc) with this BTF id, in vmlinux's BTF when
    /// `module` is 0, else in the module BTF at that index of the fd array
    /// given at load (`BPF_PSEUDO_KFUNC_CALL`).
    Kfunc {
        /// The function's BTF id.
        btf_id: i32,
        /// 0 for vmlinux, else the fd-array index of the module's BTF.
        module: i16,
    },
}

/// One eBPF instruction, by what it does.
///
/// Register roles follow the encoding: for loads `src` holds the address,
/// for stores and atomics `dst` does. Jump offsets count 8-byte slots from
/// the next instruction (a 64-bit immediate load takes two).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Op {
    /// `dst op= src` (`ALU`/`ALU64`), `dst = src` included.
    Alu {
        /// 32 or 64 bits.
        width: Width,
        /// The operation.
        op: AluOp,
        /// Destination and first operand.
        dst: Register,
        /// Second operand.
        src: Source,
    },
    /// `dst = -dst`
    Neg {
        /// 32 or 64 bits.
        width: Width,
        /// The register negated.
        dst: Register,
    },
    /// `dst = (s8)src`, a sign-extending move from the low `size` bytes
    /// (ISA v4).
    MovSx {
        /// 32 (from a byte or half) or 64 bits (from a byte, half or word).
        width: Width,
        /// How many low bytes of `src` are sign-extended.
        size: Size,
        /// Destination.
        dst: Register,
        /// Source.
        src: Register,
    },
    /// `dst = addr_space_cast(src, dst_space, src_space)`: converts a
    /// pointer between the arena's user (1) and kernel (0) address spaces.
    AddrSpaceCast {
        /// Destination.
        dst: Register,
        /// The pointer converted.
        src: Register,
        /// The address space converted to.
        dst_space: u16,
        /// The address space converted from.
        src_space: u16,
    },
    /// `dst = be16 dst` and the other byte swaps.
    Swap {
        /// To little-endian, to big-endian, or unconditional.
        swap: Swap,
        /// How many low bits are swapped.
        bits: SwapBits,
        /// The register swapped.
        dst: Register,
    },
    /// `dst = value ll`: a 64-bit immediate (two slots).
    LoadImm64 {
        /// Destination.
        dst: Register,
        /// The value.
        value: i64,
    },
    /// A 64-bit immediate load of an address the kernel resolves: a map,
    /// a map's value, a kernel variable or a subprogram (two slots).
    LoadPseudo {
        /// Destination.
        dst: Register,
        /// What the immediates name.
        pseudo: Pseudo,
        /// The fd, index, BTF id or relative offset.
        imm: i32,
        /// The offset into a map's value, or a module BTF's fd; else 0.
        next_imm: i32,
    },
    /// `r0 = *(size *)skb[imm]` or `skb[index + imm]`: the legacy packet
    /// loads carried over from classic BPF (socket filters).
    LoadPacket {
        /// A byte, half or word.
        size: Size,
        /// The register added to `imm` (`IND` mode), or none (`ABS`).
        index: Option<Register>,
        /// The packet offset.
        imm: i32,
    },
    /// `dst = *(size *)(src + off)`, zero- or sign-extended (`MEMSX`,
    /// ISA v4).
    Load {
        /// How many bytes are read.
        size: Size,
        /// Sign-extend instead of zero-extend (not for double words).
        sign_extend: bool,
        /// Destination.
        dst: Register,
        /// The base address.
        src: Register,
        /// Added to the base address.
        off: i16,
    },
    /// `*(size *)(dst + off) = src`, a register (`STX`) or immediate (`ST`).
    Store {
        /// How many bytes are written.
        size: Size,
        /// The base address.
        dst: Register,
        /// Added to the base address.
        off: i16,
        /// The value stored.
        src: Source,
    },
    /// An atomic operation on `*(size *)(dst + off)` (for a load-acquire,
    /// on `*(size *)(src + off)` into `dst`).
    Atomic {
        /// A word or double word; any size for load-acquire and
        /// store-release.
        size: Size,
        /// The operation.
        op: AtomicOp,
        /// The base address (the destination for a load-acquire).
        dst: Register,
        /// The operand (the base address for a load-acquire).
        src: Register,
        /// Added to the base address.
        off: i16,
    },
    /// `if dst cond src goto +off` (`JMP`/`JMP32`).
    Jump {
        /// Compare 32 or 64 bits.
        width: Width,
        /// The condition.
        cond: Cond,
        /// First operand.
        dst: Register,
        /// Second operand.
        src: Source,
        /// Slots to skip when the condition holds.
        off: i16,
    },
    /// `goto +off`
    Goto {
        /// Slots to skip.
        off: i16,
    },
    /// `gotol +off`: an unconditional jump with a 32-bit offset (ISA v4).
    GotoLong {
        /// Slots to skip.
        off: i32,
    },
    /// `may_goto +off`: jumps once the kernel's loop budget runs out
    /// (kernel 6.9).
    MayGoto {
        /// Slots to skip.
        off: i16,
    },
    /// `call`: a helper, a subprogram or a kfunc.
    Call(Call),
    /// `exit`: return `R0`.
    Exit,
}

impl Op {
    /// How many 8-byte slots the instruction takes: 2 for a 64-bit
    /// immediate load, else 1.
    pub const fn slots(&self) -> usize {
        match self {
            Op::LoadImm64 { .. } | Op::LoadPseudo { .. } => 2,
            _ => 1,
        }
    }

    /// The register the instruction writes, if any.
    pub const fn written_register(&self) -> Option<Register> {
        match *self {
            Op::Alu { dst, .. }
            | Op::Neg { dst, .. }
            | Op::MovSx { dst, .. }
            | Op::AddrSpaceCast { dst, .. }
            | Op::Swap { dst, .. }
            | Op::LoadImm64 { dst, .. }
            | Op::LoadPseudo { dst, .. }
            | Op::Load { dst, .. } => Some(dst),
            Op::LoadPacket { .. } => Some(Register::R0),
            Op::Atomic { op, dst, src, .. } => match op {
                AtomicOp::LoadAcquire => Some(dst),
                AtomicOp::CmpXchg => Some(Register::R0),
                AtomicOp::StoreRelease
                | AtomicOp::Add
                | AtomicOp::Or
                | AtomicOp::And
                | AtomicOp::Xor => None,
                AtomicOp::FetchAdd
                | AtomicOp::FetchOr
                | AtomicOp::FetchAnd
                | AtomicOp::FetchXor
                | AtomicOp::Xchg => Some(src),
            },
            Op::Store { .. }
            | Op::Jump { .. }
            | Op::Goto { .. }
            | Op::GotoLong { .. }
            | Op::MayGoto { .. }
            | Op::Call(_)
            | Op::Exit => None,
        }
    }

    /// The relative offset of a jump, of a call to a subprogram or of a
    /// subprogram's address load: the target is this many slots after the
    /// next instruction.
    pub const fn relative_target(&self) -> Option<i32> {
        match *self {
            Op::Jump { off, .. } | Op::Goto { off } | Op::MayGoto { off } => Some(off as i32),
            Op::GotoLong { off } => Some(off),
            Op::Call(Call::Local(off)) => Some(off),
            Op::LoadPseudo {
                pseudo: Pseudo::Func,
                imm,
                ..
            } => Some(imm),
            _ => None,
        }
    }

    /// The same instruction with its relative target set to `off`; `None`
    /// when it has no target or `off` does not fit its field.
    pub fn with_relative_target(self, off: i32) -> Option<Op> {
        let short = i16::try_from(off).ok();
        Some(match self {
            Op::Jump {
                width,
                cond,
                dst,
                src,
                ..
            } => Op::Jump {
                width,
                cond,
                dst,
                src,
                off: short?,
            },
            Op::Goto { .. } => Op::Goto { off: short? },
            Op::MayGoto { .. } => Op::MayGoto { off: short? },
            Op::GotoLong { .. } => Op::GotoLong { off },
            Op::Call(Call::Local(_)) => Op::Call(Call::Local(off)),
            Op::LoadPseudo {
                dst,
                pseudo: Pseudo::Func,
                next_imm,
                ..
            } => Op::LoadPseudo {
                dst,
                pseudo: Pseudo::Func,
                imm: off,
                next_imm,
            },
            _ => return None,
        })
    }
}
