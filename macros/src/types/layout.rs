//! Planning a C struct's exact layout in Rust: fields at their offsets,
//! explicit padding between them, bitfields grouped into byte storage.

use crate::btf::{Btf, Kind, Member, TypeId};

/// One piece of a planned struct, in offset order.
pub enum Slot {
    /// An ordinary member at a byte offset.
    Field {
        name: String,
        ty: TypeId,
        offset: u64,
    },
    /// Bytes holding one or more bitfields.
    Bits {
        index: usize,
        offset: u64,
        size: u64,
        fields: Vec<BitField>,
    },
    /// Padding no member covers.
    Pad { index: usize, size: u64 },
}

/// A bitfield inside a [`Slot::Bits`] storage.
pub struct BitField {
    pub name: String,
    pub ty: TypeId,
    /// First bit, counted from the storage's first byte (little-endian).
    pub bit: u32,
    pub width: u32,
}

/// Lays out `members` in a struct of `size` bytes.
pub fn plan(btf: &Btf, owner: &str, size: u64, members: &[Member]) -> Result<Vec<Slot>, String> {
    let mut planner = Planner {
        btf,
        owner,
        slots: Vec::new(),
        cursor: 0,
        pads: 0,
        runs: 0,
    };
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by_key(|m| m.bit_offset);
    for member in sorted {
        match bitfield(btf, member)? {
            Some((bit, width)) => planner.bitfield(member, bit, width)?,
            None => planner.field(member)?,
        }
    }
    planner.pad_to(size)?;
    Ok(planner.slots)
}

struct Planner<'a> {
    btf: &'a Btf,
    owner: &'a str,
    slots: Vec<Slot>,
    /// The first byte not yet covered.
    cursor: u64,
    pads: usize,
    runs: usize,
}

impl Planner<'_> {
    fn field(&mut self, m: &Member) -> Result<(), String> {
        if !m.bit_offset.is_multiple_of(8) {
            return Err(format!(
                "member `{}` of `{}` is not byte-aligned",
                m.name, self.owner
            ));
        }
        let offset = u64::from(m.bit_offset / 8);
        let size = self.btf.size_of(m.ty)?;
        self.pad_to(offset)?;
        self.slots.push(Slot::Field {
            name: m.name.clone(),
            ty: m.ty,
            offset,
        });
        self.cursor = offset.checked_add(size).ok_or_else(|| {
            format!(
                "member `{}` of `{}` lies beyond any size",
                m.name, self.owner
            )
        })?;
        Ok(())
    }

    fn bitfield(&mut self, m: &Member, bit: u32, width: u32) -> Result<(), String> {
        if width == 0 || width > 64 {
            return Err(format!(
                "bitfield `{}` of `{}` is {width} bits wide",
                m.name, self.owner
            ));
        }
        let first = u64::from(bit / 8);
        let owner = self.owner;
        let misplaced = || {
            format!(
                "bitfield `{}` of `{owner}` starts before its storage",
                m.name
            )
        };
        let end = (u64::from(bit) + u64::from(width)).div_ceil(8);
        // Extend the open storage when this bitfield starts inside it.
        if let Some(Slot::Bits {
            offset,
            size,
            fields,
            ..
        }) = self.slots.last_mut()
        {
            if first < *offset + *size {
                *size = (*size).max(end - *offset);
                fields.push(BitField {
                    name: m.name.clone(),
                    ty: m.ty,
                    bit: relative_bit(bit, *offset).ok_or_else(misplaced)?,
                    width,
                });
                self.cursor = *offset + *size;
                return Ok(());
            }
        }
        self.pad_to(first)?;
        self.slots.push(Slot::Bits {
            index: self.runs,
            offset: first,
            size: end - first,
            fields: vec![BitField {
                name: m.name.clone(),
                ty: m.ty,
                bit: relative_bit(bit, first).ok_or_else(misplaced)?,
                width,
            }],
        });
        self.runs += 1;
        self.cursor = end;
        Ok(())
    }

    fn pad_to(&mut self, offset: u64) -> Result<(), String> {
        if offset < self.cursor {
            return Err(format!(
                "members of `{}` overlap at byte {offset}",
                self.owner
            ));
        }
        if offset > self.cursor {
            self.slots.push(Slot::Pad {
                index: self.pads,
                size: offset - self.cursor,
            });
            self.pads += 1;
            self.cursor = offset;
        }
        Ok(())
    }
}

/// A bit's position counted from the storage's first byte.
fn relative_bit(bit: u32, storage_byte: u64) -> Option<u32> {
    bit.checked_sub(u32::try_from(storage_byte.checked_mul(8)?).ok()?)
}

/// `(first bit, width)` when the member is a bitfield, in either of BTF's
/// two encodings (width in the member, or in an int type of its own).
fn bitfield(btf: &Btf, m: &Member) -> Result<Option<(u32, u32)>, String> {
    if m.bitfield_size > 0 {
        return Ok(Some((m.bit_offset, m.bitfield_size)));
    }
    if let Kind::Int(int) = btf.get(btf.skip_aliases(m.ty)?)?.kind {
        if u64::from(int.bits) != u64::from(int.size) * 8 || int.offset != 0 {
            let bit = m
                .bit_offset
                .checked_add(int.offset)
                .ok_or("a bitfield lies beyond any struct")?;
            return Ok(Some((bit, int.bits)));
        }
    }
    Ok(None)
}
