//! The assembler: the text form, the conveniences it also takes, and its
//! errors, every one reported with its line and columns.

use ebpf_skeleton_asm::{Call, Helper, Instructions, Op, ParseError};

fn parse(text: &str) -> Instructions {
    text.parse().unwrap_or_else(|e| panic!("{text}\n{e}"))
}

fn errors(text: &str) -> Vec<(usize, std::ops::Range<usize>, String)> {
    let errors = Instructions::parse(text).unwrap_err().0;
    errors
        .into_iter()
        .map(
            |ParseError {
                 line,
                 columns,
                 message,
             }| (line, columns, message),
        )
        .collect()
}

#[test]
fn conveniences_mean_the_same_as_the_printed_form() {
    let written = "\
        // a comment
        r0 = 0; r1 = -4       # two on a line
        w2 = *(u8 *)(r1)
        *(u16 *)(r10 - 2) = w2
        *(u32 *)(r10 - 8) = 4294967295
        w3 = 0xffffffff
        if r1 s>= -1 goto +1
        call bpf_ktime_get_ns
        exit";
    let printed = "\
r0 = 0x0
r1 = -0x4
r2 = *(u8 *)(r1 + 0x0)
*(u16 *)(r10 - 0x2) = r2
*(u32 *)(r10 - 0x8) = -0x1
w3 = -0x1
if r1 s>= -0x1 goto +0x1
call 0x5
exit
";
    assert_eq!(parse(written).to_string(), printed);
    assert_eq!(parse(printed), parse(written));
}

#[test]
fn a_label_shadows_a_helper_of_the_same_name() {
    let program = parse("call bpf_loop\nexit\nbpf_loop: r0 = 0\nexit");
    assert_eq!(program[0].op(), &Op::Call(Call::Local(1)));
    let helper = parse("call bpf_loop\nexit");
    assert_eq!(helper[0].op(), &Op::Call(Call::Helper(Helper::Loop.id())));
}

#[test]
fn every_error_at_once_with_its_place() {
    let text = "\
r0 = 0
frobnicate r1
r11 = 1
r1 = *(u32 *)(r2 + 0x8000)
if r1 == 0 goto nowhere
w1 += r2
goto +0x8000
call ktime_get_ns
start:
start:
r1 <<= 64
r10 = 0
";
    assert_eq!(
        errors(text),
        [
            (2, 0..10, "unknown instruction `frobnicate`".into()),
            (
                3,
                0..3,
                "there is no register r11: the registers are r0 to r10 (w0 to w10)".into()
            ),
            (
                4,
                17..25,
                "the offset 0x8000 is out of range (-0x8000 to 0x7fff)".into()
            ),
            (5, 16..23, "no instruction has the label `nowhere`".into()),
            (6, 6..8, "expected a 32-bit register (w2)".into()),
            (
                7,
                5..12,
                "the jump offset 0x8000 is out of range (-0x8000 to 0x7fff)".into()
            ),
            (
                8,
                5..17,
                "no instruction has the label `ktime_get_ns`; to call the helper, \
                 write `call bpf_ktime_get_ns`"
                    .into()
            ),
            (10, 0..5, "the label `start` is defined twice".into()),
            (
                11,
                0..9,
                "a 64-bit shift by 64: the amount must be 0 to 63".into()
            ),
            (12, 0..7, "r10 is the frame pointer and is read-only".into()),
        ]
    );
    assert_eq!(
        Instructions::parse("exit\nr0 = @").unwrap_err().to_string(),
        "line 2, column 6: unexpected character `@`"
    );
}

#[test]
fn operands_out_of_range() {
    let cases = [
        ("r1 = 0x80000000", "the immediate (sign-extended to 64 bits) 0x80000000 is out of range (-0x80000000 to 0x7fffffff)"),
        ("w1 = 0x100000000", "the immediate 0x100000000 is out of range (-0x80000000 to 0xffffffff)"),
        ("r1 = 0x10000000000000000 ll", "`0x10000000000000000` does not fit in 64 bits"),
        ("ld_pseudo r1, 0x7, 0x1", "0x7 is not a pseudo source (0x1 to 0x6)"),
        ("r1 = *(u24 *)(r2 + 0)", "`u24` is not a size (u8, u16, u32, u64)"),
        ("w1 = *(u64 *)(r2 + 0)", "this load writes a 64-bit register: r1"),
        ("r1 = le8 r1", "`le8` is not a register, a number or an operation (le16, map(...), ...)"),
        ("r2 = xchg_64(r1 + 0x0, r3)", "the old value is loaded into the register given, so write `r3 = ...`"),
        ("r1 = cmpxchg_64(r1 + 0x0, r0, r2)", "cmpxchg compares with r0 and loads into r0"),
        ("r1 = *(u32 *)skb[0]", "a packet load is `r0 = *(u8 *)skb[...]` (u8, u16 or u32, into r0)"),
        ("r0 = r1 r2", "unexpected text after the instruction"),
        ("lock *(u8 *)(r1 + 0) += w2", "an atomic add of a u8: read-modify-write atomics take u32 or u64"),
        ("gotol", "expected a label or a relative offset (+0x3, -0x2)"),
        ("goto +0x1", "the jump lands on slot 2, past the program's last slot (0)"),
        ("r1 = 0 ll\nif r1 > r2 goto -0x2", "the jump lands on slot 1, the second half of a 64-bit immediate load"),
    ];
    for (text, message) in cases {
        let errors = errors(text);
        assert_eq!(errors.len(), 1, "{text}: {errors:?}");
        assert_eq!(errors[0].2, message, "{text}");
    }
}

#[test]
fn a_label_must_mark_an_instruction() {
    assert_eq!(
        errors("exit\nend:"),
        [(
            2,
            0..3,
            "the label `end` marks no instruction: it ends the program".into()
        )]
    );
    assert_eq!(
        errors("pc: exit"),
        [(
            1,
            0..2,
            "`pc` cannot be a name: use letters, digits, `_` and `.`, not a register or keyword"
                .into()
        )]
    );
}

/// Every prefix of every form is an error or an instruction, never a panic.
#[test]
fn cut_lines_are_errors_not_panics() {
    let lines = [
        "r1 = *(u32 *)(r10 - 0x4)",
        "*(u64 *)(r10 - 0x8) = r1",
        "*(u8 *)(r1 + 0x1) = -0x1",
        "lock *(u64 *)(r0 + 0x0) += r1",
        "r2 = atomic_fetch_xor((u64 *)(r1 + 0x0), r2)",
        "w2 = xchg32_32(r1 + 0x0, w2)",
        "r0 = cmpxchg_64(r1 + 0x0, r0, r2)",
        "w0 = load_acquire((u8 *)(r1 + 0x0))",
        "store_release((u64 *)(r1 + 0x0), r2)",
        "r1 = addr_space_cast(r2, 0x0, 0x1)",
        "r1 = (s16)r2",
        "r1 = -r1",
        "r1 = bswap64 r1",
        "r1 = -0x8000000000000000 ll",
        "r1 = map(counts) ll",
        "r1 = map_value(.bss) + 0x10 ll",
        "ld_pseudo\tr1, 0x2, 0x5, 0x10",
        "r0 = *(u16 *)skb[r2 + 0x4]",
        "r0 = *(u8 *)skb[0x3]",
        "if w1 s<= -0x3 goto +0x0",
        "if r1 & r2 goto +0x0",
        "goto +0x0",
        "gotol +0x0",
        "may_goto +0x0",
        "call kfunc 0x1234, 0x1",
        "call pc-0x1",
        "call bpf_map_lookup_elem",
        "w1 s>>= w2",
        "start: exit",
    ];
    for line in lines {
        // An exit after it, for the jumps to land on.
        assert!(
            Instructions::parse(&format!("{line}\nexit")).is_ok(),
            "{line}"
        );
        for end in (0..line.len()).filter(|&end| line.is_char_boundary(end)) {
            let _ = Instructions::parse(&line[..end]);
        }
    }
}
