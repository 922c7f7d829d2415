//! Program arrays: `BPF_MAP_TYPE_PROG_ARRAY`, the jump tables of
//! `bpf_tail_call`.

use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd};

use super::create::{create_as, spec_of};
use super::typed::typed_map;
use super::{Map, MapType, UpdateFlags};
use crate::error::Result;
use crate::pod::Pod as _;
use crate::Program;

/// A program array (`BPF_MAP_TYPE_PROG_ARRAY`): slot `i` holds the program
/// `bpf_tail_call(ctx, &map, i)` jumps to.
///
/// The kernel empties the array when the last user-space reference to it
/// goes (every handle dropped, no pin), since entries must not keep their
/// programs alive in a cycle.
///
/// Made from a [`Map`] with `ProgramArray::try_from(map)`.
pub struct ProgramArray {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(ProgramArray, kinds: [PROG_ARRAY], key: Some(4), value: Some(4));

impl ProgramArray {
    /// Creates a program array of no object (`BPF_MAP_TYPE_PROG_ARRAY`) of
    /// `len` empty slots, for tail calls of hand-written programs.
    pub fn create(name: impl Into<String>, len: u32) -> Result<Self> {
        create_as(spec_of::<u32, u32>(name, MapType::PROG_ARRAY, len))
    }

    /// The number of slots.
    pub fn len(&self) -> u32 {
        self.map.info().max_entries
    }

    /// Whether the array has no slots at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `program` in slot `index`. The kernel checks that it is of the
    /// same type as the programs that tail-call through the array.
    pub fn set(&self, index: u32, program: &Program) -> Result<()> {
        self.set_fd(index, &program.fd()?)
    }

    /// Puts the program behind the descriptor `program` in slot `index`.
    pub fn set_fd(&self, index: u32, program: &impl AsFd) -> Result<()> {
        let fd = program.as_fd().as_raw_fd();
        self.map
            .update(index.as_bytes(), fd.as_bytes(), UpdateFlags::ANY)
    }

    /// Empties slot `index`; `false` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool> {
        self.map.delete(index.as_bytes())
    }

    /// The kernel's id of the program in slot `index`, or `None` if empty.
    pub fn get(&self, index: u32) -> Result<Option<u32>> {
        let mut id = u32::new_zeroed();
        Ok(self
            .map
            .lookup_into(index.as_bytes(), id.as_mut_bytes())?
            .then_some(id))
    }
}
