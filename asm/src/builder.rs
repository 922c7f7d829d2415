//! Building a program: items that may refer to labels, maps and kernel
//! symbols by name, and the step that checks every item and turns labels
//! into offsets.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::check::InvalidInstruction;
use crate::display::write_lines;
use crate::instruction::Instruction;
use crate::instructions::Instructions;
use crate::jumps::{bad_jumps, BadJump};
use crate::op::{Call, Op};
use crate::opcode::Pseudo;

/// One instruction of a program being built, and the name it refers to:
/// the label a jump or call goes to, the map a load names, or the kfunc or
/// kernel variable the loader looks up in BTF.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Item {
    op: Op,
    reference: Option<String>,
}

impl Item {
    /// An item without a reference.
    pub const fn new(op: Op) -> Item {
        Item {
            op,
            reference: None,
        }
    }

    /// An item whose target is the named label, map or kernel symbol; the
    /// name stands for the field it resolves (the offset or immediate),
    /// whatever `op` has there.
    pub fn with_reference(op: Op, name: impl Into<String>) -> Item {
        Item {
            op,
            reference: Some(name.into()),
        }
    }

    /// What the instruction does.
    pub const fn op(&self) -> &Op {
        &self.op
    }

    /// The name it refers to, if any.
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }
}

impl From<Op> for Item {
    fn from(op: Op) -> Item {
        Item::new(op)
    }
}

impl From<Instruction> for Item {
    fn from(instruction: Instruction) -> Item {
        Item::new(*instruction.op())
    }
}

/// What a name in an instruction refers to, decided by the instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReferenceKind {
    /// A label of the same program (jumps, subprogram calls and addresses):
    /// resolved to an offset when the program is built.
    Label,
    /// A map (loads of a map or its value): resolved to an fd by the loader.
    Map,
    /// A kfunc or kernel variable: resolved to a BTF id by the loader.
    Kernel,
}

impl ReferenceKind {
    /// What a name in `op` refers to; `None` if `op` has no field a name
    /// could stand for.
    pub const fn of(op: &Op) -> Option<ReferenceKind> {
        match op {
            Op::Jump { .. }
            | Op::Goto { .. }
            | Op::GotoLong { .. }
            | Op::MayGoto { .. }
            | Op::Call(Call::Local(_))
            | Op::LoadPseudo {
                pseudo: Pseudo::Func,
                ..
            } => Some(ReferenceKind::Label),
            Op::LoadPseudo {
                pseudo: Pseudo::BtfId,
                ..
            }
            | Op::Call(Call::Kfunc { .. }) => Some(ReferenceKind::Kernel),
            Op::LoadPseudo { .. } => Some(ReferenceKind::Map),
            _ => None,
        }
    }
}

/// Builds [`Instructions`] from items and labels.
///
/// ```
/// use ebpf_skeleton_asm::{exit, AluOp, Builder, Cond, Helper, R0, R1};
///
/// let mut b = Builder::new();
/// b.push(AluOp::Mov.imm(R0, 0))
///     .push(Cond::Eq.imm(R1, 0, "out"))
///     .push(Helper::KtimeGetNs.call())
///     .label("out")
///     .push(exit());
/// let program = b.build()?;
/// assert_eq!(program.to_string(), "r0 = 0x0\nif r1 == 0x0 goto out\ncall 0x5\nout:\nexit\n");
/// # Ok::<(), ebpf_skeleton_asm::BuildErrors>(())
/// ```
#[derive(Clone, Default, Debug)]
pub struct Builder {
    items: Vec<Item>,
    /// Labels by the index of the item they mark, in order of definition.
    labels: Vec<(usize, String)>,
}

impl Builder {
    /// An empty program.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Appends an instruction.
    pub fn push(&mut self, item: impl Into<Item>) -> &mut Builder {
        self.items.push(item.into());
        self
    }

    /// Names the next instruction pushed.
    pub fn label(&mut self, name: impl Into<String>) -> &mut Builder {
        self.labels.push((self.items.len(), name.into()));
        self
    }

    /// The items pushed so far.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Replaces the item at `index`.
    pub(crate) fn replace(&mut self, index: usize, item: Item) {
        self.items[index] = item;
    }

    /// Checks every instruction, resolves every label and checks that every
    /// jump lands on an instruction, reporting all the errors at once.
    pub fn build(&self) -> Result<Instructions, BuildErrors> {
        let mut errors = Vec::new();
        let labels = self.label_slots(&mut errors);
        let mut instructions = Vec::with_capacity(self.items.len());
        let mut ops = Vec::with_capacity(self.items.len());
        // Items whose name did not resolve: where they jump means nothing.
        let mut unresolved = Vec::new();
        let mut references = BTreeMap::new();
        let mut slot = 0;
        for (index, item) in self.items.iter().enumerate() {
            let mut error = |kind| errors.push(BuildError { index, kind });
            let op = match &item.reference {
                Some(name) => resolve(item.op, name, slot, &labels).unwrap_or_else(|kind| {
                    error(kind);
                    unresolved.push(index);
                    item.op
                }),
                None => item.op,
            };
            match Instruction::new(op) {
                Ok(instruction) => instructions.push(instruction),
                Err(invalid) => error(BuildErrorKind::Invalid(invalid)),
            }
            if let Some(name) = &item.reference {
                references.insert(index, name.clone());
            }
            slot += op.slots();
            ops.push(op);
        }
        for (index, _, bad) in bad_jumps(&ops) {
            if unresolved.contains(&index) {
                continue;
            }
            errors.push(BuildError {
                index,
                kind: BuildErrorKind::BadJump(bad),
            });
        }
        if !errors.is_empty() {
            return Err(BuildErrors(errors));
        }
        Ok(Instructions::from_parts(
            instructions,
            self.labels.clone(),
            references,
        ))
    }

    /// The slot each label marks, with an error for a name defined twice,
    /// not usable as a name, or marking nothing.
    fn label_slots(&self, errors: &mut Vec<BuildError>) -> HashMap<&str, usize> {
        let mut slot_of_item = Vec::with_capacity(self.items.len());
        let mut slot = 0;
        for item in &self.items {
            slot_of_item.push(slot);
            slot += item.op.slots();
        }
        let mut labels = HashMap::new();
        for (index, name) in &self.labels {
            let index = *index;
            let kind = if !is_name(name) {
                Some(BuildErrorKind::BadName(name.clone()))
            } else if index == self.items.len() {
                Some(BuildErrorKind::LabelAtEnd(name.clone()))
            } else if labels.insert(name.as_str(), slot_of_item[index]).is_some() {
                Some(BuildErrorKind::DuplicateLabel(name.clone()))
            } else {
                None
            };
            if let Some(kind) = kind {
                errors.push(BuildError { index, kind });
            }
        }
        labels
    }
}

/// The instruction with the field `name` stands for set: the offset to a
/// label, or 0 for what the loader fills in.
fn resolve(
    op: Op,
    name: &str,
    slot: usize,
    labels: &HashMap<&str, usize>,
) -> Result<Op, BuildErrorKind> {
    if !is_name(name) {
        return Err(BuildErrorKind::BadName(name.to_owned()));
    }
    match ReferenceKind::of(&op) {
        None => Err(BuildErrorKind::NoReference(name.to_owned())),
        Some(ReferenceKind::Label) => {
            let target = *labels
                .get(name)
                .ok_or_else(|| BuildErrorKind::MissingLabel(name.to_owned()))?;
            let distance = target as i64 - (slot as i64 + 1);
            i32::try_from(distance)
                .ok()
                .and_then(|off| op.with_relative_target(off))
                .ok_or(BuildErrorKind::OutOfRange {
                    label: name.to_owned(),
                    distance,
                })
        }
        Some(ReferenceKind::Map | ReferenceKind::Kernel) => Ok(without_id(op)),
    }
}

/// `op` with the id the loader fills in (map fd or index, BTF id) zeroed,
/// so that a program reads the same whether or not it was loaded before.
pub(crate) fn without_id(op: Op) -> Op {
    match op {
        Op::LoadPseudo {
            dst,
            pseudo,
            next_imm,
            ..
        } => Op::LoadPseudo {
            dst,
            pseudo,
            imm: 0,
            next_imm,
        },
        Op::Call(Call::Kfunc { module, .. }) => Op::Call(Call::Kfunc { btf_id: 0, module }),
        other => other,
    }
}

/// Whether `name` can be a label or reference: it must read back as one
/// in the text form (letters, digits, `_` and `.`, not starting with a
/// digit, and not a register or keyword).
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '.');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !is_reserved(name)
}

fn is_reserved(name: &str) -> bool {
    let register = name
        .strip_prefix(['r', 'w'])
        .is_some_and(|number| (0..=10).any(|n| number == n.to_string()));
    register || matches!(name, "pc" | "kfunc")
}

/// What is wrong with one item of a program being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildErrorKind {
    /// A jump, call or address load names a label no instruction has.
    MissingLabel(String),
    /// Two instructions have the same label.
    DuplicateLabel(String),
    /// A label after the last instruction.
    LabelAtEnd(String),
    /// A label too far away for the instruction's offset field.
    OutOfRange {
        /// The label.
        label: String,
        /// The distance in slots, from the next instruction.
        distance: i64,
    },
    /// A name on an instruction with nothing for a name to stand for.
    NoReference(String),
    /// A name that would not read back in the text form.
    BadName(String),
    /// The kernel would reject the instruction.
    Invalid(InvalidInstruction),
    /// A jump by offset lands where no instruction starts.
    BadJump(BadJump),
}

/// An error in one item of a program being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// The index of the item (for a label, of the item it marks).
    pub index: usize,
    /// What is wrong.
    pub kind: BuildErrorKind,
}

impl fmt::Display for BuildErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildErrorKind::MissingLabel(label) => {
                write!(f, "no instruction has the label `{label}`")
            }
            BuildErrorKind::DuplicateLabel(label) => {
                write!(f, "the label `{label}` is defined twice")
            }
            BuildErrorKind::LabelAtEnd(label) => {
                write!(
                    f,
                    "the label `{label}` marks no instruction: it ends the program"
                )
            }
            BuildErrorKind::OutOfRange { label, distance } => write!(
                f,
                "`{label}` is {distance} slots away, too far for this instruction's offset \
                 (goto and conditional jumps reach -32768 to 32767; gotol reaches further)"
            ),
            BuildErrorKind::NoReference(name) => {
                write!(
                    f,
                    "`{name}`: this instruction has no target a name could stand for"
                )
            }
            BuildErrorKind::BadName(name) => write!(
                f,
                "`{name}` cannot be a name: use letters, digits, `_` and `.`, \
                 not a register or keyword"
            ),
            BuildErrorKind::Invalid(invalid) => invalid.fmt(f),
            BuildErrorKind::BadJump(bad) => bad.fmt(f),
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "instruction {}: {}", self.index, self.kind)
    }
}

/// Every error in a program being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildErrors(pub Vec<BuildError>);

impl fmt::Display for BuildErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.0)
    }
}

impl std::error::Error for BuildErrors {}
impl std::error::Error for BuildError {}
