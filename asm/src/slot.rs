//! The raw 8-byte unit of a program (`struct bpf_insn`) and its byte order.

/// The byte order of encoded instructions: that of the machine the program
/// runs on (an object file's ELF header says which).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Endian {
    /// Little-endian (x86, arm64, riscv, ...): the source register in the
    /// high nibble of the register byte.
    Little,
    /// Big-endian (s390x, ...): the destination register in the high nibble.
    Big,
}

impl Endian {
    /// The byte order of the machine this code runs on.
    pub const NATIVE: Endian = if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    };
}

/// One 8-byte slot, field by field, as `struct bpf_insn` holds it.
///
/// A 64-bit immediate load takes two: the second has only `imm` set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Slot {
    /// The opcode.
    pub code: u8,
    /// The destination register field (4 bits).
    pub dst: u8,
    /// The source register field (4 bits).
    pub src: u8,
    /// The signed offset.
    pub off: i16,
    /// The signed immediate.
    pub imm: i32,
}

impl Slot {
    /// The slot's eight bytes in `endian` order.
    pub fn to_bytes(self, endian: Endian) -> [u8; 8] {
        let (regs, off, imm) = match endian {
            Endian::Little => (
                self.src << 4 | self.dst & 0x0f,
                self.off.to_le_bytes(),
                self.imm.to_le_bytes(),
            ),
            Endian::Big => (
                self.dst << 4 | self.src & 0x0f,
                self.off.to_be_bytes(),
                self.imm.to_be_bytes(),
            ),
        };
        [
            self.code, regs, off[0], off[1], imm[0], imm[1], imm[2], imm[3],
        ]
    }

    /// The slot these eight bytes encode in `endian` order.
    pub fn from_bytes(bytes: [u8; 8], endian: Endian) -> Slot {
        let [code, regs, o0, o1, i0, i1, i2, i3] = bytes;
        let (high, low) = (regs >> 4, regs & 0x0f);
        match endian {
            Endian::Little => Slot {
                code,
                dst: low,
                src: high,
                off: i16::from_le_bytes([o0, o1]),
                imm: i32::from_le_bytes([i0, i1, i2, i3]),
            },
            Endian::Big => Slot {
                code,
                dst: high,
                src: low,
                off: i16::from_be_bytes([o0, o1]),
                imm: i32::from_be_bytes([i0, i1, i2, i3]),
            },
        }
    }

    /// The second slot of a 64-bit immediate load.
    pub(crate) const fn wide(imm: i32) -> Slot {
        Slot {
            code: 0,
            dst: 0,
            src: 0,
            off: 0,
            imm,
        }
    }
}
