//! The opcode model: instruction classes and the operations, sizes and
//! modes an opcode byte encodes, with their numbers from the kernel's
//! instruction-set document.

/// The instruction class: the low three bits of the opcode.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum Class {
    /// 64-bit immediate loads and the legacy packet loads.
    Ld = 0x00,
    /// Loads from memory into a register.
    Ldx = 0x01,
    /// Stores of an immediate.
    St = 0x02,
    /// Stores of a register, and atomic operations.
    Stx = 0x03,
    /// 32-bit arithmetic.
    Alu = 0x04,
    /// 64-bit jumps, calls and exit.
    Jmp = 0x05,
    /// 32-bit jumps.
    Jmp32 = 0x06,
    /// 64-bit arithmetic.
    Alu64 = 0x07,
}

impl Class {
    /// The class of an opcode byte.
    pub const fn of(opcode: u8) -> Class {
        match opcode & 0x07 {
            0x00 => Class::Ld,
            0x01 => Class::Ldx,
            0x02 => Class::St,
            0x03 => Class::Stx,
            0x04 => Class::Alu,
            0x05 => Class::Jmp,
            0x06 => Class::Jmp32,
            _ => Class::Alu64,
        }
    }
}

/// The operand width of an arithmetic or jump instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Width {
    /// 32-bit operands (`ALU`, `JMP32`; the `w` registers); an arithmetic
    /// result is zero-extended to 64 bits.
    W32,
    /// 64-bit operands (`ALU64`, `JMP`; the `r` registers).
    W64,
}

impl Width {
    /// The number of bits.
    pub const fn bits(self) -> u32 {
        match self {
            Width::W32 => 32,
            Width::W64 => 64,
        }
    }
}

/// The size of a memory access.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Size {
    /// One byte (`u8`).
    Byte,
    /// Two bytes (`u16`).
    Half,
    /// Four bytes (`u32`).
    Word,
    /// Eight bytes (`u64`).
    DWord,
}

impl Size {
    /// The number of bytes.
    pub const fn bytes(self) -> u32 {
        match self {
            Size::Byte => 1,
            Size::Half => 2,
            Size::Word => 4,
            Size::DWord => 8,
        }
    }

    /// The size field of the opcode (bits 3-4).
    pub(crate) const fn code(self) -> u8 {
        match self {
            Size::Word => 0x00,
            Size::Half => 0x08,
            Size::Byte => 0x10,
            Size::DWord => 0x18,
        }
    }

    pub(crate) const fn from_code(opcode: u8) -> Size {
        match opcode & 0x18 {
            0x00 => Size::Word,
            0x08 => Size::Half,
            0x10 => Size::Byte,
            _ => Size::DWord,
        }
    }

    /// The size with this many bytes.
    pub const fn from_bytes(bytes: u32) -> Option<Size> {
        match bytes {
            1 => Some(Size::Byte),
            2 => Some(Size::Half),
            4 => Some(Size::Word),
            8 => Some(Size::DWord),
            _ => None,
        }
    }
}

/// A two-operand arithmetic operation (`dst op= src`).
///
/// Negation, sign-extending moves and byte swaps have operands of their
/// own and are separate [`Op`](crate::Op)s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AluOp {
    /// `dst += src`
    Add,
    /// `dst -= src`
    Sub,
    /// `dst *= src`
    Mul,
    /// `dst /= src`, unsigned; division by zero gives 0.
    Div,
    /// `dst s/= src`, signed (ISA v4).
    SDiv,
    /// `dst |= src`
    Or,
    /// `dst &= src`
    And,
    /// `dst <<= src`
    Lsh,
    /// `dst >>= src`, logical.
    Rsh,
    /// `dst %= src`, unsigned; modulo by zero leaves `dst`.
    Mod,
    /// `dst s%= src`, signed (ISA v4).
    SMod,
    /// `dst ^= src`
    Xor,
    /// `dst = src`
    Mov,
    /// `dst s>>= src`, arithmetic.
    Arsh,
}

impl AluOp {
    /// Every operation.
    pub const ALL: [AluOp; 14] = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::SDiv,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Mod,
        AluOp::SMod,
        AluOp::Xor,
        AluOp::Mov,
        AluOp::Arsh,
    ];

    /// The operation field (high four bits) and the offset field that
    /// tells the signed division and modulo apart.
    pub(crate) const fn code(self) -> (u8, i16) {
        match self {
            AluOp::Add => (alu::ADD, 0),
            AluOp::Sub => (alu::SUB, 0),
            AluOp::Mul => (alu::MUL, 0),
            AluOp::Div => (alu::DIV, 0),
            AluOp::SDiv => (alu::DIV, 1),
            AluOp::Or => (alu::OR, 0),
            AluOp::And => (alu::AND, 0),
            AluOp::Lsh => (alu::LSH, 0),
            AluOp::Rsh => (alu::RSH, 0),
            AluOp::Mod => (alu::MOD, 0),
            AluOp::SMod => (alu::MOD, 1),
            AluOp::Xor => (alu::XOR, 0),
            AluOp::Mov => (alu::MOV, 0),
            AluOp::Arsh => (alu::ARSH, 0),
        }
    }

    /// The assignment operator of the text form (`+=`, `s/=`, `=`, ...).
    pub const fn operator(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div => "/=",
            AluOp::SDiv => "s/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh => ">>=",
            AluOp::Mod => "%=",
            AluOp::SMod => "s%=",
            AluOp::Xor => "^=",
            AluOp::Mov => "=",
            AluOp::Arsh => "s>>=",
        }
    }

    /// Whether this is a shift, whose immediate must be less than the width.
    pub const fn is_shift(self) -> bool {
        matches!(self, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh)
    }

    /// Whether this divides, so that an immediate divisor must not be 0.
    pub const fn is_division(self) -> bool {
        matches!(self, AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod)
    }
}

/// The condition of a conditional jump (`if dst cond src goto +off`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Cond {
    /// `==`
    Eq,
    /// `>`, unsigned
    Gt,
    /// `>=`, unsigned
    Ge,
    /// `&`: any bit in common
    Set,
    /// `!=`
    Ne,
    /// `s>`, signed
    SGt,
    /// `s>=`, signed
    SGe,
    /// `<`, unsigned
    Lt,
    /// `<=`, unsigned
    Le,
    /// `s<`, signed
    SLt,
    /// `s<=`, signed
    SLe,
}

impl Cond {
    /// Every condition.
    pub const ALL: [Cond; 11] = [
        Cond::Eq,
        Cond::Gt,
        Cond::Ge,
        Cond::Set,
        Cond::Ne,
        Cond::SGt,
        Cond::SGe,
        Cond::Lt,
        Cond::Le,
        Cond::SLt,
        Cond::SLe,
    ];

    pub(crate) const fn code(self) -> u8 {
        match self {
            Cond::Eq => jmp::JEQ,
            Cond::Gt => jmp::JGT,
            Cond::Ge => jmp::JGE,
            Cond::Set => jmp::JSET,
            Cond::Ne => jmp::JNE,
            Cond::SGt => jmp::JSGT,
            Cond::SGe => jmp::JSGE,
            Cond::Lt => jmp::JLT,
            Cond::Le => jmp::JLE,
            Cond::SLt => jmp::JSLT,
            Cond::SLe => jmp::JSLE,
        }
    }

    pub(crate) const fn from_code(code: u8) -> Option<Cond> {
        Some(match code {
            jmp::JEQ => Cond::Eq,
            jmp::JGT => Cond::Gt,
            jmp::JGE => Cond::Ge,
            jmp::JSET => Cond::Set,
            jmp::JNE => Cond::Ne,
            jmp::JSGT => Cond::SGt,
            jmp::JSGE => Cond::SGe,
            jmp::JLT => Cond::Lt,
            jmp::JLE => Cond::Le,
            jmp::JSLT => Cond::SLt,
            jmp::JSLE => Cond::SLe,
            _ => return None,
        })
    }

    /// The comparison operator of the text form.
    pub const fn operator(self) -> &'static str {
        match self {
            Cond::Eq => "==",
            Cond::Gt => ">",
            Cond::Ge => ">=",
            Cond::Set => "&",
            Cond::Ne => "!=",
            Cond::SGt => "s>",
            Cond::SGe => "s>=",
            Cond::Lt => "<",
            Cond::Le => "<=",
            Cond::SLt => "s<",
            Cond::SLe => "s<=",
        }
    }
}

/// An atomic memory operation (`STX | ATOMIC`, selected by the immediate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AtomicOp {
    /// `lock *(size *)(dst + off) += src`
    Add,
    /// `lock *(size *)(dst + off) |= src`
    Or,
    /// `lock *(size *)(dst + off) &= src`
    And,
    /// `lock *(size *)(dst + off) ^= src`
    Xor,
    /// Add, and load the old value into `src`.
    FetchAdd,
    /// Or, and load the old value into `src`.
    FetchOr,
    /// And, and load the old value into `src`.
    FetchAnd,
    /// Xor, and load the old value into `src`.
    FetchXor,
    /// Exchange `src` with memory.
    Xchg,
    /// If memory equals `R0`, store `src`; load the old value into `R0`.
    CmpXchg,
    /// `dst = load_acquire((size *)(src + off))` (kernel 6.15).
    LoadAcquire,
    /// `store_release((size *)(dst + off), src)` (kernel 6.15).
    StoreRelease,
}

impl AtomicOp {
    /// Every atomic operation.
    pub const ALL: [AtomicOp; 12] = [
        AtomicOp::Add,
        AtomicOp::Or,
        AtomicOp::And,
        AtomicOp::Xor,
        AtomicOp::FetchAdd,
        AtomicOp::FetchOr,
        AtomicOp::FetchAnd,
        AtomicOp::FetchXor,
        AtomicOp::Xchg,
        AtomicOp::CmpXchg,
        AtomicOp::LoadAcquire,
        AtomicOp::StoreRelease,
    ];

    /// The immediate that selects the operation.
    pub const fn code(self) -> i32 {
        match self {
            AtomicOp::Add => 0x00,
            AtomicOp::Or => 0x40,
            AtomicOp::And => 0x50,
            AtomicOp::Xor => 0xa0,
            AtomicOp::FetchAdd => 0x01,
            AtomicOp::FetchOr => 0x41,
            AtomicOp::FetchAnd => 0x51,
            AtomicOp::FetchXor => 0xa1,
            AtomicOp::Xchg => 0xe1,
            AtomicOp::CmpXchg => 0xf1,
            AtomicOp::LoadAcquire => 0x100,
            AtomicOp::StoreRelease => 0x110,
        }
    }

    /// The operation this immediate selects, if any.
    pub fn from_code(imm: i32) -> Option<AtomicOp> {
        AtomicOp::ALL.into_iter().find(|op| op.code() == imm)
    }

    /// Whether the operation only reads and writes memory; the others
    /// (fetch, exchange and compare-exchange) also load the old value into
    /// a register.
    pub const fn is_plain(self) -> bool {
        matches!(
            self,
            AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor
        )
    }
}

/// Which byte swap an `END` instruction performs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Swap {
    /// Convert between host order and little-endian (`le16`…; `ALU` class).
    ToLe,
    /// Convert between host order and big-endian (`be16`…; `ALU` class).
    ToBe,
    /// Swap unconditionally (`bswap16`…; `ALU64` class, ISA v4).
    Bswap,
}

/// How many low bits of the register a byte swap works on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SwapBits {
    /// The low 16 bits; the rest are zeroed.
    B16,
    /// The low 32 bits; the rest are zeroed.
    B32,
    /// All 64 bits.
    B64,
}

impl SwapBits {
    /// The number of bits, as encoded in the immediate.
    pub const fn bits(self) -> i32 {
        match self {
            SwapBits::B16 => 16,
            SwapBits::B32 => 32,
            SwapBits::B64 => 64,
        }
    }

    /// The width with this number of bits.
    pub const fn from_bits(bits: i32) -> Option<SwapBits> {
        match bits {
            16 => Some(SwapBits::B16),
            32 => Some(SwapBits::B32),
            64 => Some(SwapBits::B64),
            _ => None,
        }
    }
}

/// What a 64-bit immediate load with a non-zero source field loads: the
/// kernel (or the loader) turns the immediate into an address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum Pseudo {
    /// The map whose file descriptor is the immediate (`BPF_PSEUDO_MAP_FD`).
    MapFd = 1,
    /// The address of the value of the map whose fd is the immediate, plus
    /// the second immediate (`BPF_PSEUDO_MAP_VALUE`).
    MapValue = 2,
    /// The address of the kernel variable with this BTF id; the second
    /// immediate is the fd of a module's BTF, or 0 (`BPF_PSEUDO_BTF_ID`).
    BtfId = 3,
    /// The address of the subprogram this many instructions after the next
    /// one (`BPF_PSEUDO_FUNC`).
    Func = 4,
    /// The map at this index of the fd array given at load
    /// (`BPF_PSEUDO_MAP_IDX`).
    MapIdx = 5,
    /// The value of the map at this index, plus the second immediate
    /// (`BPF_PSEUDO_MAP_IDX_VALUE`).
    MapIdxValue = 6,
}

impl Pseudo {
    /// Every pseudo source.
    pub const ALL: [Pseudo; 6] = [
        Pseudo::MapFd,
        Pseudo::MapValue,
        Pseudo::BtfId,
        Pseudo::Func,
        Pseudo::MapIdx,
        Pseudo::MapIdxValue,
    ];

    /// The source-register field that selects it.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The pseudo source with this number, if any.
    pub const fn from_number(number: u8) -> Option<Pseudo> {
        match number {
            1..=6 => Some(Pseudo::ALL[number as usize - 1]),
            _ => None,
        }
    }

    /// Whether the second immediate is part of the address (an offset into
    /// a map's value or a BTF fd); for the others it must be 0.
    pub const fn uses_next_imm(self) -> bool {
        matches!(
            self,
            Pseudo::MapValue | Pseudo::MapIdxValue | Pseudo::BtfId | Pseudo::Func
        )
    }

    /// Whether it refers to a map (by fd or by index).
    pub const fn is_map(self) -> bool {
        !matches!(self, Pseudo::BtfId | Pseudo::Func)
    }
}

/// Opcode fields of the arithmetic classes (high four bits).
pub(crate) mod alu {
    pub const ADD: u8 = 0x00;
    pub const SUB: u8 = 0x10;
    pub const MUL: u8 = 0x20;
    pub const DIV: u8 = 0x30;
    pub const OR: u8 = 0x40;
    pub const AND: u8 = 0x50;
    pub const LSH: u8 = 0x60;
    pub const RSH: u8 = 0x70;
    pub const NEG: u8 = 0x80;
    pub const MOD: u8 = 0x90;
    pub const XOR: u8 = 0xa0;
    pub const MOV: u8 = 0xb0;
    pub const ARSH: u8 = 0xc0;
    pub const END: u8 = 0xd0;
}

/// Opcode fields of the jump classes (high four bits).
pub(crate) mod jmp {
    pub const JA: u8 = 0x00;
    pub const JEQ: u8 = 0x10;
    pub const JGT: u8 = 0x20;
    pub const JGE: u8 = 0x30;
    pub const JSET: u8 = 0x40;
    pub const JNE: u8 = 0x50;
    pub const JSGT: u8 = 0x60;
    pub const JSGE: u8 = 0x70;
    pub const CALL: u8 = 0x80;
    pub const EXIT: u8 = 0x90;
    pub const JLT: u8 = 0xa0;
    pub const JLE: u8 = 0xb0;
    pub const JSLT: u8 = 0xc0;
    pub const JSLE: u8 = 0xd0;
    pub const JCOND: u8 = 0xe0;
}

/// The source bit of arithmetic and jump opcodes.
pub(crate) mod source {
    /// The immediate (`K`); for `END`, to little-endian.
    pub const K: u8 = 0x00;
    /// The source register (`X`); for `END`, to big-endian.
    pub const X: u8 = 0x08;
}

/// The mode field of load and store opcodes (high three bits).
pub(crate) mod mode {
    pub const IMM: u8 = 0x00;
    pub const ABS: u8 = 0x20;
    pub const IND: u8 = 0x40;
    pub const MEM: u8 = 0x60;
    pub const MEMSX: u8 = 0x80;
    pub const ATOMIC: u8 = 0xc0;
}

/// The source-register field of calls.
pub(crate) mod call {
    pub const HELPER: u8 = 0;
    pub const LOCAL: u8 = 1;
    pub const KFUNC: u8 = 2;
}

/// The offset of an `ALU64 | MOV | X` that makes it `addr_space_cast`.
pub(crate) const ADDR_SPACE_CAST: i16 = 1;
