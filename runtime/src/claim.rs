//! Exclusive claims on parts of a kernel object, process-wide.
//!
//! The kernel keeps one consumer position per ring buffer, and one perf
//! event per slot of a perf event array. Two readers of one ring in this
//! process would each move that position (and the producer would then
//! write over a record the other still lends out); two perf readers would
//! take each other's slots; two writers of one user ring buffer would
//! reserve the same space. A reader therefore claims what it consumes, and
//! a writer what it produces, whatever handle it was made from: maps are
//! told apart by their kernel id, which no other map gets while the
//! claimant holds a descriptor of it.

use std::collections::HashSet;
use std::sync::Mutex;

/// What of a map is claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Part {
    /// A ring buffer's consumer position.
    Consumer,
    /// A perf event array's slot for a CPU.
    Slot(u32),
    /// A user ring buffer's producer position.
    Producer,
}

/// A claim on `part` of the map with kernel id `map_id`, released on drop.
#[derive(Debug)]
pub(crate) struct Claim {
    map_id: u32,
    part: Part,
}

static CLAIMED: Mutex<Option<HashSet<(u32, Part)>>> = Mutex::new(None);

impl Claim {
    /// Claims `part` of map `map_id`; `None` when something in this process
    /// holds it already.
    pub(crate) fn take(map_id: u32, part: Part) -> Option<Claim> {
        let mut claimed = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        // `then`, not `then_some`: a refused claim must not be built (its
        // drop would release the claim it lost to).
        claimed
            .get_or_insert_with(HashSet::new)
            .insert((map_id, part))
            .then(|| Claim { map_id, part })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut claimed = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = claimed.as_mut() {
            set.remove(&(self.map_id, self.part));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_at_a_time() {
        let first = Claim::take(u32::MAX, Part::Consumer).expect("free");
        assert!(Claim::take(u32::MAX, Part::Consumer).is_none());
        let _slot = Claim::take(u32::MAX, Part::Slot(0)).expect("another part");
        assert!(Claim::take(u32::MAX, Part::Slot(0)).is_none());
        drop(first);
        assert!(Claim::take(u32::MAX, Part::Consumer).is_some());
    }
}
