//! The program tag the kernel shows (`bpf_prog_info.tag`, bpftool's
//! `tag`): the first 8 bytes of a hash of the instructions as loaded, with
//! map fds zeroed since they differ from load to load
//! (kernel/bpf/core.c, `bpf_prog_calc_tag`). The hash is SHA-256 since
//! Linux 6.18, SHA-1 before.

use std::fmt;

use crate::hash::{sha1, sha256};
use crate::opcode::Pseudo;
use crate::slot::{Endian, Slot};

/// A program's tag: 8 bytes, printed as 16 hex digits as bpftool does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tag(pub [u8; 8]);

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The hash a kernel computes a program's tag with.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TagHash {
    /// SHA-1: kernels before 6.18.
    Sha1,
    /// SHA-256: Linux 6.18 and later.
    Sha256,
}

impl TagHash {
    /// The hash of the kernel with this version (`uname -r`'s first two
    /// numbers).
    pub const fn for_kernel(major: u32, minor: u32) -> TagHash {
        if major > 6 || (major == 6 && minor >= 18) {
            TagHash::Sha256
        } else {
            TagHash::Sha1
        }
    }
}

/// The tag of a program's slots, as a kernel of byte order `endian`
/// hashing with `hash` computes it.
pub(crate) fn tag(slots: &[Slot], hash: TagHash, endian: Endian) -> Tag {
    let mut bytes = Vec::with_capacity(slots.len() * 8);
    let mut after_map_load = false;
    for slot in slots {
        let mut slot = *slot;
        // The kernel zeroes the immediates of both halves of a load of a
        // map or a map's value: the fd and the offset into the value.
        if !after_map_load && is_map_load(&slot) {
            after_map_load = true;
            slot.imm = 0;
        } else if after_map_load
            && slot.code == 0
            && slot.dst == 0
            && slot.src == 0
            && slot.off == 0
        {
            after_map_load = false;
            slot.imm = 0;
        } else {
            after_map_load = false;
        }
        bytes.extend_from_slice(&slot.to_bytes(endian));
    }
    let digest = match hash {
        TagHash::Sha1 => sha1(&bytes).to_vec(),
        TagHash::Sha256 => sha256(&bytes).to_vec(),
    };
    let mut tag = [0; 8];
    tag.copy_from_slice(&digest[..8]);
    Tag(tag)
}

fn is_map_load(slot: &Slot) -> bool {
    const LDDW: u8 = 0x18;
    slot.code == LDDW
        && (slot.src == Pseudo::MapFd.number() || slot.src == Pseudo::MapValue.number())
}
