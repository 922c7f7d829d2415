//! Stack trace maps: `BPF_MAP_TYPE_STACK_TRACE`, filled by
//! `bpf_get_stackid`.

use std::marker::PhantomData;

use super::typed::{typed_map, Entries, TypedKeys};
use super::Map;
use crate::error::Result;
use crate::pod::Pod as _;

/// A stack trace map (`BPF_MAP_TYPE_STACK_TRACE`): `bpf_get_stackid`
/// stores a stack under an id, and [`StackTraceMap::get`] reads its
/// instruction pointers back. Only programs add stacks.
///
/// Maps created with `BPF_F_STACK_BUILD_ID` hold build-id records instead
/// of addresses; read those through [`StackTraceMap::map`].
///
/// Made from a [`Map`] with `StackTraceMap::try_from(map)`.
pub struct StackTraceMap {
    map: Map,
    _types: PhantomData<fn() -> ()>,
}

typed_map!(StackTraceMap, kinds: [STACK_TRACE], key: Some(4), value: None);

/// The frames of stack `id`, for [`Entries`].
fn frames(map: &Map, id: &u32) -> Result<Option<Vec<u64>>> {
    let mut bytes = vec![0u8; map.value_buffer_size()];
    if !map.lookup_into(id.as_bytes(), &mut bytes)? {
        return Ok(None);
    }
    let mut frames: Vec<u64> = bytes
        .chunks_exact(8)
        .filter_map(u64::read_from_bytes)
        .collect();
    let depth = frames
        .iter()
        .rposition(|&ip| ip != 0)
        .map_or(0, |last| last + 1);
    frames.truncate(depth);
    Ok(Some(frames))
}

impl StackTraceMap {
    /// The most frames a stack holds (the value size over 8).
    pub fn max_depth(&self) -> usize {
        self.map.info().value_size as usize / 8
    }

    /// The instruction pointers of stack `stack_id`, innermost first and
    /// without the unused zero slots at the end; `None` if there is no such
    /// stack.
    pub fn get(&self, stack_id: u32) -> Result<Option<Vec<u64>>> {
        frames(&self.map, &stack_id)
    }

    /// Removes stack `stack_id`, freeing its id; `false` if there was none.
    pub fn remove(&self, stack_id: u32) -> Result<bool> {
        self.map.delete(stack_id.as_bytes())
    }

    /// The ids of the stored stacks.
    pub fn keys(&self) -> TypedKeys<'_, u32> {
        TypedKeys::new(&self.map)
    }

    /// The stored stacks and their frames.
    pub fn iter(&self) -> Entries<'_, u32, Vec<u64>> {
        Entries::new(&self.map, frames)
    }
}
