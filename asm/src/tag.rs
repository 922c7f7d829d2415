//! The program tag the kernel shows (`bpf_prog_info.tag`, bpftool's
//! `tag`): the first 8 bytes of the SHA-1 of the instructions as loaded,
//! with map fds zeroed since they differ from load to load
//! (kernel/bpf/core.c, `bpf_prog_calc_tag`).

use std::fmt;

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

/// The tag of a program's slots, as the kernel of byte order `endian`
/// computes it.
pub(crate) fn tag(slots: &[Slot], endian: Endian) -> Tag {
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
    let digest = sha1(&bytes);
    let mut tag = [0; 8];
    tag.copy_from_slice(&digest[..8]);
    Tag(tag)
}

fn is_map_load(slot: &Slot) -> bool {
    const LDDW: u8 = 0x18;
    slot.code == LDDW
        && (slot.src == Pseudo::MapFd.number() || slot.src == Pseudo::MapValue.number())
}

/// SHA-1 (FIPS 180-4). Only for the tag: the kernel chose it, and it is
/// not used here for anything that needs collision resistance.
pub(crate) fn sha1(message: &[u8]) -> [u8; 20] {
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&(message.len() as u64 * 8).to_be_bytes());
    for block in padded.chunks_exact(64) {
        compress(&mut state, block);
    }
    let mut digest = [0; 20];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

fn compress(state: &mut [u32; 5], block: &[u8]) {
    let mut w = [0u32; 80];
    for (i, word) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    }
    for i in 16..80 {
        w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (i, &word) in w.iter().enumerate() {
        let (f, k) = match i / 20 {
            0 => ((b & c) | (!b & d), 0x5a82_7999),
            1 => (b ^ c ^ d, 0x6ed9_eba1),
            2 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
            _ => (b ^ c ^ d, 0xca62_c1d6),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(word);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The test vectors of FIPS 180-2 and RFC 3174, and the padding edges.
    #[test]
    fn sha1_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 1_000_000])),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 55])),
            "c1c8bbdc22796e28c0e15163d20899b65621d65a"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 56])),
            "c2db330f6083854c99d4b5bfb6e8f29f201be699"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 64])),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d"
        );
    }
}
