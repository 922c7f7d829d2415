//! Where jumps land. The kernel rejects a jump out of the program and one
//! into the second half of a 64-bit immediate load; calls and subprogram
//! addresses are left alone, as they may point into code linked later.

use std::fmt;

use crate::op::Op;

/// A jump to a slot no instruction starts at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadJump {
    /// The target is before the first slot or past the last.
    OutOfProgram {
        /// The target slot.
        target: i64,
        /// The program's length in slots.
        slots: usize,
    },
    /// The target is the second half of a 64-bit immediate load.
    IntoWideLoad {
        /// The target slot.
        target: i64,
    },
}

impl fmt::Display for BadJump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadJump::OutOfProgram { target, .. } if *target < 0 => write!(
                f,
                "the jump lands on slot {target}, before the program's first slot (0)"
            ),
            BadJump::OutOfProgram { target, slots } => write!(
                f,
                "the jump lands on slot {target}, past the program's last slot ({})",
                slots.saturating_sub(1)
            ),
            BadJump::IntoWideLoad { target } => write!(
                f,
                "the jump lands on slot {target}, the second half of a 64-bit immediate load"
            ),
        }
    }
}

/// Every jump of the program that lands where no instruction starts: its
/// index, its slot, and where it lands.
pub(crate) fn bad_jumps(ops: &[Op]) -> Vec<(usize, usize, BadJump)> {
    let mut starts = Vec::with_capacity(ops.len() * 2);
    for op in ops {
        starts.push(true);
        if op.slots() == 2 {
            starts.push(false);
        }
    }
    let slots = starts.len();
    let mut bad = Vec::new();
    let mut slot = 0;
    for (index, op) in ops.iter().enumerate() {
        if let Some(off) = jump_offset(op) {
            let target = slot as i64 + 1 + off as i64;
            let lands = usize::try_from(target).ok().and_then(|t| starts.get(t));
            match lands {
                Some(true) => {}
                Some(false) => bad.push((index, slot, BadJump::IntoWideLoad { target })),
                None => bad.push((index, slot, BadJump::OutOfProgram { target, slots })),
            }
        }
        slot += op.slots();
    }
    bad
}

fn jump_offset(op: &Op) -> Option<i32> {
    match *op {
        Op::Jump { off, .. } | Op::Goto { off } | Op::MayGoto { off } => Some(off as i32),
        Op::GotoLong { off } => Some(off),
        _ => None,
    }
}
