//! One instruction of the text form, in the syntax `Display` prints.

use std::ops::Range;

use super::lex::{Tok, Token};
use crate::builder::Item;
use crate::op::{Call, Op, Source};
use crate::opcode::{AluOp, AtomicOp, Cond, Pseudo, Size, Swap, SwapBits, Width};
use crate::register::Register;

/// A parse error: the message and the byte range it is about.
pub(crate) type Error = (String, Range<usize>);
type Result<T> = std::result::Result<T, Error>;

/// One instruction as parsed.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The instruction and the name it refers to.
    pub item: Item,
    /// Where that name is, for errors about it.
    pub reference_span: Option<Range<usize>>,
    /// A `call name` that names a helper unless the program has a label
    /// of that name.
    pub maybe_helper: bool,
}

/// Parses the tokens of one instruction; `end` is the byte offset past them.
pub(crate) fn instruction(tokens: &[Token<'_>], end: usize) -> Result<Parsed> {
    let mut p = Parser {
        tokens,
        pos: 0,
        end,
        reference: None,
        maybe_helper: false,
    };
    let op = p.instruction()?;
    if let Some(token) = p.tokens.get(p.pos) {
        return Err((
            "unexpected text after the instruction".into(),
            token.span.start..end,
        ));
    }
    let (item, reference_span) = match p.reference {
        Some((name, span)) => (Item::with_reference(op, name), Some(span)),
        None => (Item::new(op), None),
    };
    Ok(Parsed {
        item,
        reference_span,
        maybe_helper: p.maybe_helper,
    })
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    pos: usize,
    end: usize,
    reference: Option<(String, Range<usize>)>,
    maybe_helper: bool,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self, ahead: usize) -> Option<Tok<'a>> {
        self.tokens.get(self.pos + ahead).map(|t| t.tok)
    }

    /// The span of the next token, or the end of the statement.
    fn here(&self) -> Range<usize> {
        self.tokens
            .get(self.pos)
            .map_or(self.end..self.end, |t| t.span.clone())
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        Err((message.into(), self.here()))
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        let tok = self.peek(0);
        self.pos += tok.is_some() as usize;
        tok
    }

    /// The next token as `f` maps it, consumed only if `f` takes it.
    fn take<T>(&mut self, f: impl FnOnce(Tok<'a>) -> Option<T>) -> Option<T> {
        let value = self.peek(0).and_then(f)?;
        self.pos += 1;
        Some(value)
    }

    fn eat(&mut self, punct: &'static str) -> bool {
        let found = self.peek(0) == Some(Tok::Punct(punct));
        self.pos += found as usize;
        found
    }

    fn expect(&mut self, punct: &'static str) -> Result<()> {
        if self.eat(punct) {
            Ok(())
        } else {
            self.error(format!("expected `{punct}`"))
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.peek(0) == Some(Tok::Ident(word));
        self.pos += found as usize;
        found
    }

    fn expect_word(&mut self, word: &str) -> Result<()> {
        if self.eat_word(word) {
            Ok(())
        } else {
            self.error(format!("expected `{word}`"))
        }
    }

    fn ident(&mut self, what: &str) -> Result<&'a str> {
        match self.peek(0) {
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                Ok(name)
            }
            _ => self.error(format!("expected {what}")),
        }
    }

    /// A name a reference stands for; remembers where it is.
    fn reference(&mut self, what: &str) -> Result<()> {
        let span = self.here();
        let name = self.ident(what)?;
        self.reference = Some((name.to_owned(), span));
        Ok(())
    }

    fn instruction(&mut self) -> Result<Op> {
        let start = self.here();
        match self.next() {
            Some(Tok::Ident("exit")) => Ok(Op::Exit),
            Some(Tok::Ident("goto")) => Ok(Op::Goto {
                off: self.target_short()?,
            }),
            Some(Tok::Ident("gotol")) => Ok(Op::GotoLong {
                off: self.target(i32::MIN as i64, i32::MAX as i64)? as i32,
            }),
            Some(Tok::Ident("may_goto")) => Ok(Op::MayGoto {
                off: self.target_short()?,
            }),
            Some(Tok::Ident("call")) => self.call(),
            Some(Tok::Ident("if")) => self.jump(),
            Some(Tok::Ident("lock")) => self.lock(),
            Some(Tok::Punct("*")) => self.store(),
            Some(Tok::Ident("store_release")) => self.store_release(),
            Some(Tok::Ident("ld_pseudo")) => self.ld_pseudo(),
            Some(Tok::Ident(word)) => match register_named(word) {
                Some((width, dst)) => self.assignment(width, dst),
                None => Err((
                    not_a_register(word).unwrap_or_else(|| format!("unknown instruction `{word}`")),
                    start,
                )),
            },
            _ => Err(("expected an instruction".into(), start)),
        }
    }

    // ---- operands -------------------------------------------------------

    /// A register: `r1` or `w1`.
    fn register(&mut self) -> Result<(Width, Register)> {
        let named = |t| match t {
            Tok::Ident(word) => register_named(word),
            _ => None,
        };
        match self.take(named) {
            Some(reg) => Ok(reg),
            None => {
                let message = match self.peek(0) {
                    Some(Tok::Ident(word)) => not_a_register(word),
                    _ => None,
                };
                self.error(
                    message.unwrap_or_else(|| "expected a register (r0 to r10, w0 to w10)".into()),
                )
            }
        }
    }

    /// A register of the given width.
    fn register_of(&mut self, width: Width) -> Result<Register> {
        let span = self.here();
        let (found, reg) = self.register()?;
        if found != width {
            return Err((
                format!(
                    "expected a {}-bit register ({}{})",
                    width.bits(),
                    prefix(width),
                    reg.number()
                ),
                span,
            ));
        }
        Ok(reg)
    }

    /// A 64-bit register (`r1`), or for a narrow access either name.
    fn register_for(&mut self, size: Size) -> Result<Register> {
        if size == Size::DWord {
            self.register_of(Width::W64)
        } else {
            Ok(self.register()?.1)
        }
    }

    /// A signed number: an optional `-` or `+`, then the number.
    fn signed(&mut self) -> Result<i128> {
        let negative = if self.eat("-") {
            true
        } else {
            self.eat("+");
            false
        };
        let number = |t| match t {
            Tok::Num(value) => Some(value as i128),
            _ => None,
        };
        match self.take(number) {
            Some(value) if negative => Ok(-value),
            Some(value) => Ok(value),
            None => self.error("expected a number"),
        }
    }

    /// A number in `min..=max`.
    fn number_in(&mut self, min: i128, max: i128, what: &str) -> Result<i128> {
        let start = self.here();
        let value = self.signed()?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            let span = start.start..self.tokens[self.pos - 1].span.end;
            Err((
                format!(
                    "{what} {} is out of range ({} to {})",
                    hex(value),
                    hex(min),
                    hex(max)
                ),
                span,
            ))
        }
    }

    /// A 32-bit immediate; a 32-bit operation also takes it unsigned
    /// (`0xffffffff`), a 64-bit one sign-extends it and takes it signed.
    fn imm(&mut self, unsigned_too: bool) -> Result<i32> {
        let max = if unsigned_too {
            u32::MAX as i128
        } else {
            i32::MAX as i128
        };
        let what = if unsigned_too {
            "the immediate"
        } else {
            "the immediate (sign-extended to 64 bits)"
        };
        Ok(self.number_in(i32::MIN as i128, max, what)? as u32 as i32)
    }

    fn number_u16(&mut self) -> Result<u16> {
        Ok(self.number_in(0, u16::MAX as i128, "the address space")? as u16)
    }

    /// A register or an immediate.
    fn source(&mut self, width: Width) -> Result<Source> {
        if matches!(self.peek(0), Some(Tok::Ident(_))) {
            Ok(Source::Reg(self.register_of(width)?))
        } else {
            Ok(Source::Imm(self.imm(width == Width::W32)?))
        }
    }

    /// A jump target: `+0x3`, `-2` or a label.
    fn target(&mut self, min: i64, max: i64) -> Result<i64> {
        if matches!(self.peek(0), Some(Tok::Ident(_))) {
            self.reference("a label")?;
            return Ok(0);
        }
        if !matches!(self.peek(0), Some(Tok::Punct("+" | "-"))) {
            return self.error("expected a label or a relative offset (+0x3, -0x2)");
        }
        Ok(self.number_in(min as i128, max as i128, "the jump offset")? as i64)
    }

    fn target_short(&mut self) -> Result<i16> {
        Ok(self.target(i16::MIN as i64, i16::MAX as i64)? as i16)
    }

    /// `(u32 *)`'s inside: the access size, and whether it is signed.
    fn pointer_type(&mut self) -> Result<(Size, bool)> {
        let span = self.here();
        let word = self.ident("a size (u8, u16, u32, u64)")?;
        let (signed, bits) = match (word.strip_prefix('u'), word.strip_prefix('s')) {
            (Some(bits), _) => (false, bits),
            (_, Some(bits)) => (true, bits),
            _ => (false, ""),
        };
        let size = match bits {
            "8" => Size::Byte,
            "16" => Size::Half,
            "32" => Size::Word,
            "64" => Size::DWord,
            _ => return Err((format!("`{word}` is not a size (u8, u16, u32, u64)"), span)),
        };
        self.expect("*")?;
        Ok((size, signed))
    }

    /// `(u32 *)` as a whole, unsigned.
    fn cast(&mut self) -> Result<Size> {
        let span = self.here();
        self.expect("(")?;
        let (size, signed) = self.pointer_type()?;
        self.expect(")")?;
        if signed {
            return Err((
                "only a load can be signed: use u8, u16, u32 or u64".into(),
                span,
            ));
        }
        Ok(size)
    }

    /// `r1 + 0x8` or `r1 - 0x8` (or `r1`).
    fn base_offset(&mut self) -> Result<(Register, i16)> {
        let base = self.register_of(Width::W64)?;
        let off = if matches!(self.peek(0), Some(Tok::Punct("+" | "-"))) {
            self.number_in(i16::MIN as i128, i16::MAX as i128, "the offset")? as i16
        } else {
            0
        };
        Ok((base, off))
    }

    /// `(r1 + 0x8)`.
    fn address(&mut self) -> Result<(Register, i16)> {
        self.expect("(")?;
        let address = self.base_offset()?;
        self.expect(")")?;
        Ok(address)
    }

    // ---- instructions ---------------------------------------------------

    fn call(&mut self) -> Result<Op> {
        if self.eat_word("kfunc") {
            if matches!(self.peek(0), Some(Tok::Ident(_))) {
                self.reference("a kfunc name")?;
                return Ok(Op::Call(Call::Kfunc {
                    btf_id: 0,
                    module: 0,
                }));
            }
            let btf_id = self.imm(true)?;
            let module = if self.eat(",") {
                self.number_in(0, i16::MAX as i128, "the module index")? as i16
            } else {
                0
            };
            return Ok(Op::Call(Call::Kfunc { btf_id, module }));
        }
        if self.peek(0) == Some(Tok::Ident("pc"))
            && matches!(self.peek(1), Some(Tok::Punct("+" | "-")))
        {
            self.pos += 1;
            let off = self.number_in(i32::MIN as i128, i32::MAX as i128, "the call offset")?;
            return Ok(Op::Call(Call::Local(off as i32)));
        }
        if matches!(self.peek(0), Some(Tok::Ident(_))) {
            self.reference("a function")?;
            self.maybe_helper = true;
            return Ok(Op::Call(Call::Local(0)));
        }
        Ok(Op::Call(Call::Helper(self.imm(false)?)))
    }

    fn jump(&mut self) -> Result<Op> {
        let (width, dst) = self.register()?;
        let cond = self.take(|t| match t {
            Tok::Punct(op) => Cond::ALL.into_iter().find(|c| c.operator() == op),
            _ => None,
        });
        let Some(cond) = cond else {
            return self.error("expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)");
        };
        let src = self.source(width)?;
        self.expect_word("goto")?;
        let off = self.target_short()?;
        Ok(Op::Jump {
            width,
            cond,
            dst,
            src,
            off,
        })
    }

    /// `lock *(u64 *)(r1 + 0x0) += r2`
    fn lock(&mut self) -> Result<Op> {
        self.expect("*")?;
        let size = self.cast()?;
        let (dst, off) = self.address()?;
        let op = self.take(|t| match t {
            Tok::Punct("+=") => Some(AtomicOp::Add),
            Tok::Punct("|=") => Some(AtomicOp::Or),
            Tok::Punct("&=") => Some(AtomicOp::And),
            Tok::Punct("^=") => Some(AtomicOp::Xor),
            _ => None,
        });
        let Some(op) = op else {
            return self.error("expected an atomic operation (+=, |=, &=, ^=)");
        };
        let src = self.register_for(size)?;
        Ok(Op::Atomic {
            size,
            op,
            dst,
            src,
            off,
        })
    }

    /// `*(u32 *)(r10 - 0x4) = r1` or `= 0x0`.
    fn store(&mut self) -> Result<Op> {
        let size = self.cast()?;
        let (dst, off) = self.address()?;
        self.expect("=")?;
        let src = if matches!(self.peek(0), Some(Tok::Ident(_))) {
            Source::Reg(self.register_for(size)?)
        } else {
            Source::Imm(self.imm(size != Size::DWord)?)
        };
        Ok(Op::Store {
            size,
            dst,
            off,
            src,
        })
    }

    /// `store_release((u32 *)(r1 + 0x0), w2)`
    fn store_release(&mut self) -> Result<Op> {
        self.expect("(")?;
        let size = self.cast()?;
        let (dst, off) = self.address()?;
        self.expect(",")?;
        let src = self.register_for(size)?;
        self.expect(")")?;
        Ok(Op::Atomic {
            size,
            op: AtomicOp::StoreRelease,
            dst,
            src,
            off,
        })
    }

    /// `ld_pseudo r1, 0x2, 0x5, 0x10` (the last is this crate's addition),
    /// or with a name for the first immediate.
    fn ld_pseudo(&mut self) -> Result<Op> {
        let dst = self.register_of(Width::W64)?;
        self.expect(",")?;
        let span = self.here();
        let number = self.number_in(0, 0xff, "the pseudo source")?;
        let pseudo = Pseudo::from_number(number as u8).ok_or((
            format!("{} is not a pseudo source (0x1 to 0x6)", hex(number)),
            span,
        ))?;
        self.expect(",")?;
        let imm = if matches!(self.peek(0), Some(Tok::Ident(_))) {
            self.reference("a name")?;
            0
        } else {
            self.imm(true)?
        };
        let next_imm = if self.eat(",") { self.imm(true)? } else { 0 };
        Ok(Op::LoadPseudo {
            dst,
            pseudo,
            imm,
            next_imm,
        })
    }

    /// Everything that starts with a register: `dst op= ...`.
    fn assignment(&mut self, width: Width, dst: Register) -> Result<Op> {
        let op = self.take(|t| match t {
            Tok::Punct(punct) => AluOp::ALL.into_iter().find(|op| op.operator() == punct),
            _ => None,
        });
        let Some(op) = op else {
            return self.error("expected an assignment (=, +=, -=, ...)");
        };
        if op != AluOp::Mov {
            let src = self.source(width)?;
            return Ok(Op::Alu {
                width,
                op,
                dst,
                src,
            });
        }
        self.right_hand_side(width, dst)
    }

    /// What follows `dst =`.
    fn right_hand_side(&mut self, width: Width, dst: Register) -> Result<Op> {
        let wide = |this: &Self| -> Result<()> {
            if width == Width::W64 {
                Ok(())
            } else {
                Err((
                    format!(
                        "this instruction writes a 64-bit register: r{}",
                        dst.number()
                    ),
                    this.tokens[0].span.clone(),
                ))
            }
        };
        match (self.peek(0), self.peek(1)) {
            (Some(Tok::Punct("-")), Some(Tok::Ident(_))) => {
                self.pos += 1;
                let reg = self.register_of(width)?;
                if reg != dst {
                    return self.error_at_previous("negation writes the register it negates");
                }
                Ok(Op::Neg { width, dst })
            }
            (Some(Tok::Punct("(")), Some(Tok::Ident(_))) => self.mov_sx(width, dst),
            (Some(Tok::Punct("*")), _) => {
                self.pos += 1;
                self.load(width, dst)
            }
            (Some(Tok::Ident(word)), _) if register_named(word).is_some() => {
                let src = self.register_of(width)?;
                Ok(Op::Alu {
                    width,
                    op: AluOp::Mov,
                    dst,
                    src: Source::Reg(src),
                })
            }
            (Some(Tok::Ident(word)), _) => {
                self.pos += 1;
                self.named(word, width, dst, wide)
            }
            _ => {
                // `0x1 ll` is a 64-bit immediate, `0x1` a move.
                let start = self.pos;
                self.signed()?;
                let is_wide = self.peek(0) == Some(Tok::Ident("ll"));
                self.pos = start;
                if !is_wide {
                    let imm = self.imm(width == Width::W32)?;
                    return Ok(Op::Alu {
                        width,
                        op: AluOp::Mov,
                        dst,
                        src: Source::Imm(imm),
                    });
                }
                wide(self)?;
                let value = self.number_in(i64::MIN as i128, u64::MAX as i128, "the value")?;
                self.expect_word("ll")?;
                Ok(Op::LoadImm64 {
                    dst,
                    value: value as u64 as i64,
                })
            }
        }
    }

    fn error_at_previous<T>(&self, message: &str) -> Result<T> {
        Err((message.into(), self.tokens[self.pos - 1].span.clone()))
    }

    /// `dst = (s8)src`
    fn mov_sx(&mut self, width: Width, dst: Register) -> Result<Op> {
        self.expect("(")?;
        let span = self.here();
        let word = self.ident("a signed size (s8, s16, s32)")?;
        let size = match word {
            "s8" => Size::Byte,
            "s16" => Size::Half,
            "s32" => Size::Word,
            _ => return Err((format!("`{word}` is not s8, s16 or s32"), span)),
        };
        self.expect(")")?;
        let src = self.register_of(width)?;
        Ok(Op::MovSx {
            width,
            size,
            dst,
            src,
        })
    }

    /// `dst = *(u32 *)(src + off)` or a packet load `r0 = *(u32 *)skb[...]`.
    fn load(&mut self, width: Width, dst: Register) -> Result<Op> {
        self.expect("(")?;
        let (size, sign_extend) = self.pointer_type()?;
        self.expect(")")?;
        if self.eat_word("skb") {
            return self.packet(size, sign_extend, dst);
        }
        if width == Width::W32 && (size == Size::DWord || sign_extend) {
            return Err((
                format!("this load writes a 64-bit register: r{}", dst.number()),
                self.tokens[0].span.clone(),
            ));
        }
        let (src, off) = self.address()?;
        Ok(Op::Load {
            size,
            sign_extend,
            dst,
            src,
            off,
        })
    }

    /// `skb[0x12]`, `skb[r2]` or `skb[r2 + 0x4]`.
    fn packet(&mut self, size: Size, signed: bool, dst: Register) -> Result<Op> {
        if dst != Register::R0 || signed {
            return Err((
                "a packet load is `r0 = *(u8 *)skb[...]` (u8, u16 or u32, into r0)".into(),
                self.tokens[0].span.clone(),
            ));
        }
        self.expect("[")?;
        let op = if matches!(self.peek(0), Some(Tok::Ident(_))) {
            let index = self.register_of(Width::W64)?;
            let imm = if matches!(self.peek(0), Some(Tok::Punct("+" | "-"))) {
                self.imm(false)?
            } else {
                0
            };
            Op::LoadPacket {
                size,
                index: Some(index),
                imm,
            }
        } else {
            Op::LoadPacket {
                size,
                index: None,
                imm: self.imm(false)?,
            }
        };
        self.expect("]")?;
        Ok(op)
    }

    /// `dst = name(...)` and `dst = le16 dst`: swaps, address-space casts,
    /// map loads and the atomics that load.
    fn named(
        &mut self,
        word: &str,
        width: Width,
        dst: Register,
        wide: impl Fn(&Self) -> Result<()>,
    ) -> Result<Op> {
        if let Some((swap, bits)) = swap(word) {
            let span = self.here();
            let reg = self.register()?.1;
            if reg != dst {
                return Err(("a byte swap writes the register it swaps".into(), span));
            }
            return Ok(Op::Swap { swap, bits, dst });
        }
        match word {
            "addr_space_cast" => {
                wide(self)?;
                self.expect("(")?;
                let src = self.register_of(Width::W64)?;
                self.expect(",")?;
                let dst_space = self.number_u16()?;
                self.expect(",")?;
                let src_space = self.number_u16()?;
                self.expect(")")?;
                Ok(Op::AddrSpaceCast {
                    dst,
                    src,
                    dst_space,
                    src_space,
                })
            }
            "map" | "map_value" => {
                wide(self)?;
                self.expect("(")?;
                self.reference("a map name")?;
                self.expect(")")?;
                let (pseudo, next_imm) = if word == "map" {
                    (Pseudo::MapFd, 0)
                } else if self.eat("+") {
                    (Pseudo::MapValue, self.imm(true)?)
                } else {
                    (Pseudo::MapValue, 0)
                };
                self.expect_word("ll")?;
                Ok(Op::LoadPseudo {
                    dst,
                    pseudo,
                    imm: 0,
                    next_imm,
                })
            }
            "load_acquire" => {
                self.expect("(")?;
                let size = self.cast()?;
                let (src, off) = self.address()?;
                self.expect(")")?;
                self.atomic_result(width, size)?;
                Ok(Op::Atomic {
                    size,
                    op: AtomicOp::LoadAcquire,
                    dst,
                    src,
                    off,
                })
            }
            _ => self.atomic_load(word, width, dst),
        }
    }

    /// A 32-bit register may receive an atomic's result only for a
    /// narrow access.
    fn atomic_result(&self, width: Width, size: Size) -> Result<()> {
        if width == Width::W32 && size == Size::DWord {
            return Err((
                "a 64-bit access loads into a 64-bit register (r)".into(),
                self.tokens[0].span.clone(),
            ));
        }
        Ok(())
    }

    /// `r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)`,
    /// `r2 = xchg_64(r1 + 0x0, r2)`, `r0 = cmpxchg_64(r1 + 0x0, r0, r2)`
    /// and their 32-bit forms.
    fn atomic_load(&mut self, word: &str, width: Width, dst: Register) -> Result<Op> {
        let start = self.tokens[self.pos - 1].span.clone();
        let fetch = match word {
            "atomic_fetch_add" => Some(AtomicOp::FetchAdd),
            "atomic_fetch_or" => Some(AtomicOp::FetchOr),
            "atomic_fetch_and" => Some(AtomicOp::FetchAnd),
            "atomic_fetch_xor" => Some(AtomicOp::FetchXor),
            _ => None,
        };
        let exchange = match word {
            "xchg_64" => Some((AtomicOp::Xchg, Size::DWord)),
            "xchg32_32" => Some((AtomicOp::Xchg, Size::Word)),
            "cmpxchg_64" => Some((AtomicOp::CmpXchg, Size::DWord)),
            "cmpxchg32_32" => Some((AtomicOp::CmpXchg, Size::Word)),
            _ => None,
        };
        let (op, size, (base, off)) = if let Some(op) = fetch {
            self.expect("(")?;
            let size = self.cast()?;
            (op, size, self.address()?)
        } else if let Some((op, size)) = exchange {
            self.expect("(")?;
            (op, size, self.base_offset()?)
        } else {
            let message = not_a_register(word).unwrap_or_else(|| {
                format!(
                    "`{word}` is not a register, a number or an operation (le16, map(...), ...)"
                )
            });
            return Err((message, start));
        };
        self.atomic_result(width, size)?;
        self.expect(",")?;
        if op == AtomicOp::CmpXchg {
            let span = self.here();
            let expected = self.register_for(size)?;
            if expected != Register::R0 || dst != Register::R0 {
                return Err(("cmpxchg compares with r0 and loads into r0".into(), span));
            }
            self.expect(",")?;
        }
        let span = self.here();
        let src = self.register_for(size)?;
        self.expect(")")?;
        if op != AtomicOp::CmpXchg && src != dst {
            return Err((
                format!(
                    "the old value is loaded into the register given, so write `{}{} = ...`",
                    prefix(width),
                    src.number()
                ),
                span,
            ));
        }
        Ok(Op::Atomic {
            size,
            op,
            dst: base,
            src,
            off,
        })
    }
}

/// `r3` or `w3` as a width and register.
fn register_named(word: &str) -> Option<(Width, Register)> {
    let width = match word.as_bytes().first()? {
        b'r' => Width::W64,
        b'w' => Width::W32,
        _ => return None,
    };
    let number = &word[1..];
    if number.len() > 1 && number.starts_with('0') {
        return None;
    }
    let register = Register::from_number(number.parse().ok()?)?;
    Some((width, register))
}

/// The error for `r11` and the like: names of registers the machine lacks.
fn not_a_register(word: &str) -> Option<String> {
    let number = word.strip_prefix(['r', 'w'])?;
    number.parse::<u32>().ok()?;
    Some(format!(
        "there is no register {word}: the registers are r0 to r10 (w0 to w10)"
    ))
}

fn prefix(width: Width) -> char {
    match width {
        Width::W32 => 'w',
        Width::W64 => 'r',
    }
}

/// `le16`, `be32`, `bswap64`, ...
fn swap(word: &str) -> Option<(Swap, SwapBits)> {
    let (swap, bits) = if let Some(bits) = word.strip_prefix("bswap") {
        (Swap::Bswap, bits)
    } else if let Some(bits) = word.strip_prefix("le") {
        (Swap::ToLe, bits)
    } else {
        (Swap::ToBe, word.strip_prefix("be")?)
    };
    Some((swap, SwapBits::from_bits(bits.parse().ok()?)?))
}

fn hex(value: i128) -> String {
    if value < 0 {
        format!("-{:#x}", value.unsigned_abs())
    } else {
        format!("{value:#x}")
    }
}
