//! The eBPF instruction set as Rust types: build, encode, decode,
//! disassemble and assemble programs, and compute their kernel tag.
//!
//! The runtime crate re-exports this crate as `ebpf_skeleton::asm`, and its
//! `ebpf_skeleton::asm!` macro assembles text at compile time.
//!
//! - [`Register`], the opcode model ([`Class`], [`AluOp`], [`Cond`],
//!   [`AtomicOp`], [`Size`], [`Pseudo`], ...) and [`Op`], what one
//!   instruction does: the ISA of the kernel's
//!   `Documentation/bpf/standardization/instruction-set.rst` through v4,
//!   plus `may_goto`, `addr_space_cast`, load-acquire and store-release.
//! - [`Instruction`]: an [`Op`] the kernel accepts on its own. Whatever the
//!   verifier rejects for one instruction (a reserved field set, a shift past
//!   the width, a write to `r10`, ...) is an error when it is made
//!   ([`Instruction::new`]) or decoded.
//! - [`Instructions`]: a program, with labels and named references to
//!   labels, maps and kfuncs. A program built or assembled has every jump
//!   landing on one of its instructions; [`check_jumps`](Instructions::check_jumps)
//!   checks a decoded one. [`decode`](Instructions::decode) and
//!   [`encode`](Instructions::encode) in either byte order,
//!   [`parse`](Instructions::parse) and `Display`, and
//!   [`tag`](Instructions::tag).
//! - [`Builder`] and the constructors below: programs in Rust.
//! - [`TranslatedInstructions`]: a program as a kernel gives it back after
//!   verifying it, with the few forms only the kernel writes.
//!
//! ```
//! use ebpf_skeleton_asm::{exit, load_map, store_imm, AluOp, Builder, Cond, Helper, Instructions, Size};
//! use ebpf_skeleton_asm::{R0, R1, R2, R10};
//!
//! let mut b = Builder::new();
//! b.push(store_imm(Size::Word, R10, -4, 0))    // the key, on the stack
//!     .push(AluOp::Mov.reg(R2, R10))
//!     .push(AluOp::Add.imm(R2, -4))
//!     .push(load_map(R1, "counts"))
//!     .push(Helper::MapLookupElem.call())
//!     .push(Cond::Eq.imm(R0, 0, "out"))
//!     .push(AluOp::Mov.imm(R0, 1))
//!     .label("out")
//!     .push(exit());
//! let program = b.build()?;
//!
//! let text = "\
//! *(u32 *)(r10 - 0x4) = 0x0
//! r2 = r10
//! r2 += -0x4
//! r1 = map(counts) ll
//! call 0x1
//! if r0 == 0x0 goto out
//! r0 = 0x1
//! out:
//! exit
//! ";
//! assert_eq!(program.to_string(), text);
//! assert_eq!(text.parse::<Instructions>()?, program);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The text form
//!
//! Instructions print as `llvm-objdump -d --no-show-raw-insn` (LLVM 19)
//! prints them, without the address and the `<symbol+offset>` of jumps:
//! `r1 = *(u32 *)(r10 - 0x4)`, `if r0 == 0x0 goto +0x3`, `w1 s>>= w2`,
//! `r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)`, `r1 = 0x0 ll`. Where
//! LLVM 19's text would lose a field, a form of this crate's own keeps it:
//! the 32-bit atomics print as LLVM prints them with `--mattr=+alu32`,
//! load-acquire and store-release as LLVM 21 prints them,
//! a subprogram call as `call pc+0x3`, a kfunc call as `call kfunc 0x1234`,
//! and `ld_pseudo` keeps a non-zero second immediate (`ld_pseudo r1, 0x2,
//! 0x5, 0x10`).
//!
//! The assembler reads that text back, and also takes:
//! - labels, `name:` before an instruction or on a line of their own, and
//!   jumps to them: `goto out`, `if r1 > r2 goto loop`, `gotol far`,
//!   `may_goto done`, `call my_subprogram`;
//! - maps by name, which the loader resolves: `r1 = map(counts) ll`,
//!   `r1 = map_value(.bss) + 0x10 ll` (and `ld_pseudo r1, 0x5, name` for
//!   the other pseudo sources); kfuncs by name: `call kfunc bpf_task_acquire`;
//! - helpers by name: `call bpf_map_lookup_elem` is `call 0x1`;
//! - decimal numbers, `w` registers for the narrow loads and stores
//!   (`w1 = *(u8 *)(r2 + 0)`), `(r1)` for `(r1 + 0x0)`;
//! - `//` and `#` comments, and `;` between instructions on one line.

#![warn(missing_docs)]

mod builder;
mod check;
mod decode;
mod display;
mod dsl;
mod encode;
mod hash;
mod helper;
mod instruction;
mod instructions;
mod jumps;
mod op;
mod opcode;
mod parse;
mod register;
mod slot;
mod tag;
mod translated;

pub use builder::{is_name, BuildError, BuildErrorKind, BuildErrors, Builder, Item, ReferenceKind};
pub use check::InvalidInstruction;
pub use decode::{DecodeError, DecodeErrorKind, Field};
pub use dsl::{
    atomic, call, call_kfunc, exit, goto, goto_long, load, load_func, load_imm64, load_map,
    load_map_value, load_sx, may_goto, mov_sx, mov_sx32, neg, neg32, store, store_imm, swap,
};
pub use helper::Helper;
pub use instruction::Instruction;
pub use instructions::{Instructions, UnresolvedMaps};
pub use jumps::BadJump;
pub use op::{Call, Op, Source};
pub use opcode::{AluOp, AtomicOp, Class, Cond, Pseudo, Size, Swap, SwapBits, Width};
pub use parse::{ParseError, ParseErrors};
pub use register::Register;
pub use register::Register::{R0, R1, R10, R2, R3, R4, R5, R6, R7, R8, R9};
pub use slot::{Endian, Slot};
pub use tag::{Tag, TagHash};
pub use translated::{Translated, TranslatedInstructions};

/// What the `asm!` macro's expansion calls; not a stable API.
#[doc(hidden)]
pub mod __private {
    use crate::Instructions;
    use std::collections::BTreeMap;

    /// The program the macro assembled: its little-endian bytes, labels
    /// and references, all checked at compile time.
    pub fn assembled(
        code: &[u8],
        labels: &[(usize, &str)],
        references: &[(usize, &str)],
    ) -> Instructions {
        let decoded = Instructions::decode_endian(code, crate::Endian::Little)
            .expect("asm!: the bytes the macro encoded decode (same crate version)");
        let labels = labels
            .iter()
            .map(|&(index, name)| (index, name.to_owned()))
            .collect();
        let references: BTreeMap<usize, String> = references
            .iter()
            .map(|&(index, name)| (index, name.to_owned()))
            .collect();
        Instructions::from_parts(decoded.as_slice().to_vec(), labels, references)
    }
}
