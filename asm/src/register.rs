//! The eleven registers of the eBPF machine.

use std::fmt;

/// A register: `R0` (return value) to `R10` (the read-only frame pointer).
///
/// `R1`–`R5` carry arguments to calls and are clobbered by them, `R6`–`R9`
/// are preserved across calls. The text form is `r0`…`r10` for a 64-bit
/// use and `w0`…`w10` for a 32-bit one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum Register {
    /// Return value of calls and of the program.
    R0 = 0,
    /// First argument; the context when the program starts.
    R1,
    /// Second argument.
    R2,
    /// Third argument.
    R3,
    /// Fourth argument.
    R4,
    /// Fifth argument.
    R5,
    /// Callee-saved.
    R6,
    /// Callee-saved.
    R7,
    /// Callee-saved.
    R8,
    /// Callee-saved.
    R9,
    /// The frame pointer: read-only, the stack grows down from it.
    R10,
}

impl Register {
    /// Every register, in number order.
    pub const ALL: [Register; 11] = [
        Register::R0,
        Register::R1,
        Register::R2,
        Register::R3,
        Register::R4,
        Register::R5,
        Register::R6,
        Register::R7,
        Register::R8,
        Register::R9,
        Register::R10,
    ];

    /// The register's number, 0 to 10, as encoded in an instruction.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The register with this number, if there is one (0 to 10).
    pub const fn from_number(number: u8) -> Option<Register> {
        if number <= 10 {
            Some(Register::ALL[number as usize])
        } else {
            None
        }
    }
}

impl fmt::Display for Register {
    /// `r0`…`r10`; the 32-bit name is the text form's business.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.number())
    }
}
