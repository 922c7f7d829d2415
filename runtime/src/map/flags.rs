//! Flags of map updates.

use std::ops::BitOr;

/// How an update treats an existing entry (`BPF_ANY`, `BPF_NOEXIST`,
/// `BPF_EXIST`, `BPF_F_LOCK`); combine with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateFlags(pub u64);

impl UpdateFlags {
    /// Create the entry or replace it.
    pub const ANY: UpdateFlags = UpdateFlags(0);
    /// Create the entry; fail with `EEXIST` if it exists.
    pub const NO_EXIST: UpdateFlags = UpdateFlags(1);
    /// Replace the entry; fail with `ENOENT` if it does not exist.
    pub const EXIST: UpdateFlags = UpdateFlags(2);
    /// Take the value's `bpf_spin_lock` while writing it.
    pub const LOCK: UpdateFlags = UpdateFlags(4);
}

impl BitOr for UpdateFlags {
    type Output = UpdateFlags;

    fn bitor(self, rhs: UpdateFlags) -> UpdateFlags {
        UpdateFlags(self.0 | rhs.0)
    }
}
