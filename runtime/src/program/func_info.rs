//! The least BTF a program of no object needs: where its functions start
//! (`func_info`). The kernel demands it of a program that takes the address
//! of a subprogram (a callback for `bpf_loop`, `bpf_for_each_map_elem`,
//! timers): "missing btf func_info". Each function gets a `FUNC` of one
//! prototype, `int f(void)`; the verifier checks the arguments of static
//! functions from the caller's registers, not from BTF.

use std::collections::BTreeMap;

use crate::asm::{Call, Instructions, Op, Pseudo};

/// `BTF_MAGIC`, written in this machine's byte order as the kernel wants.
const MAGIC: u16 = 0xeb9f;
/// The header's size (`struct btf_header`).
const HEADER_LEN: u32 = 24;
const KIND_INT: u32 = 1;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_FUNC: u32 = 12;
const INT_SIGNED: u32 = 1 << 24;
const LINKAGE_STATIC: u32 = 0;
const LINKAGE_GLOBAL: u32 = 1;
/// The type ids of `int` and of `int (void)`; the functions follow.
const INT_ID: u32 = 1;
const PROTO_ID: u32 = 2;

/// A program's functions: the BTF describing them and, for each, its first
/// instruction (in 8-byte slots) and its `FUNC`'s type id, in order.
pub(crate) struct FuncInfo {
    pub(crate) btf: Vec<u8>,
    pub(crate) records: Vec<libbpf_sys::bpf_func_info>,
}

/// The slots where `instructions`' functions start (0 for the main one),
/// as the kernel finds them: the targets of subprogram calls and of
/// subprogram address loads.
pub(crate) fn function_starts(instructions: &Instructions) -> Vec<usize> {
    let mut starts = vec![0];
    let mut slot = 0;
    for instruction in instructions {
        let target = match *instruction.op() {
            Op::Call(Call::Local(off)) => Some(off),
            Op::LoadPseudo {
                pseudo: Pseudo::Func,
                imm,
                ..
            } => Some(imm),
            _ => None,
        };
        if let Some(off) = target {
            let start = slot as i64 + 1 + i64::from(off);
            if let Ok(start) = usize::try_from(start) {
                starts.push(start);
            }
        }
        slot += instruction.slot_count();
    }
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// The func_info of a program named `program` with its functions starting
/// at `starts` (as [`function_starts`] gives them), each named by its label
/// in `instructions` when it has one.
pub(crate) fn func_info(program: &str, instructions: &Instructions, starts: &[usize]) -> FuncInfo {
    let labels = labels_by_slot(instructions);
    let mut strings = vec![0u8];
    let mut types = Vec::new();
    let mut add_string = |name: &str| {
        let offset = strings.len() as u32;
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        offset
    };
    let int = add_string("int");
    push_words(&mut types, &[int, KIND_INT << 24, 4, INT_SIGNED | 32]);
    push_words(&mut types, &[0, KIND_FUNC_PROTO << 24, INT_ID]);
    let mut records = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let name = match (i, labels.get(&start)) {
            (0, _) => identifier(program, "prog"),
            (_, Some(label)) => identifier(label, "func"),
            (_, None) => format!("func_{start}"),
        };
        let linkage = if i == 0 {
            LINKAGE_GLOBAL
        } else {
            LINKAGE_STATIC
        };
        let name = add_string(&name);
        push_words(&mut types, &[name, KIND_FUNC << 24 | linkage, PROTO_ID]);
        records.push(libbpf_sys::bpf_func_info {
            insn_off: start as u32,
            type_id: PROTO_ID + 1 + i as u32,
        });
    }
    let mut btf = Vec::with_capacity(HEADER_LEN as usize + types.len() + strings.len());
    btf.extend_from_slice(&MAGIC.to_ne_bytes());
    btf.extend_from_slice(&[1, 0]); // version 1, no flags
    for word in [
        HEADER_LEN,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        btf.extend_from_slice(&word.to_ne_bytes());
    }
    btf.extend_from_slice(&types);
    btf.extend_from_slice(&strings);
    FuncInfo { btf, records }
}

/// The first label of each labelled instruction, by its slot.
fn labels_by_slot(instructions: &Instructions) -> BTreeMap<usize, &str> {
    let mut slot_of = Vec::with_capacity(instructions.len());
    let mut slot = 0;
    for instruction in instructions {
        slot_of.push(slot);
        slot += instruction.slot_count();
    }
    let mut labels = BTreeMap::new();
    for (index, name) in instructions.labels() {
        if let Some(&slot) = slot_of.get(index) {
            labels.entry(slot).or_insert(name);
        }
    }
    labels
}

/// `name` as a C identifier, which BTF function names must be (labels may
/// hold `.`); `fallback` when nothing of it is left.
fn identifier(name: &str, fallback: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if id.is_empty() {
        return fallback.to_owned();
    }
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    id
}

fn push_words(out: &mut Vec<u8>, words: &[u32]) {
    for word in words {
        out.extend_from_slice(&word.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_start_where_calls_and_callbacks_go() {
        let program: Instructions = "\
            call double
            ld_pseudo r2, 4, step
            exit
            double:
            r0 = r1
            exit
            .Lstep.1:
            step:
            r0 = 0
            exit"
            .parse()
            .unwrap();
        // The load takes two slots: `double` is at slot 4, `step` at 6.
        let starts = function_starts(&program);
        assert_eq!(starts, [0, 4, 6]);
        let info = func_info("my.prog", &program, &starts);
        let offsets: Vec<(u32, u32)> = info
            .records
            .iter()
            .map(|r| (r.insn_off, r.type_id))
            .collect();
        assert_eq!(offsets, [(0, 3), (4, 4), (6, 5)]);
        let strings = &info.btf[HEADER_LEN as usize + 16 + 12 + 3 * 12..];
        assert_eq!(strings, b"\0int\0my_prog\0double\0_Lstep_1\0");
        assert_eq!(&info.btf[..2], &MAGIC.to_ne_bytes());
    }
}
