//! What generated code calls and users do not: kept here so that every
//! expansion stays small and this logic is tested once.

use std::fmt;

use crate::global::SectionData;
use crate::Pod;

/// `Vec`, for generated code that cannot rely on the prelude
/// (`#![no_implicit_prelude]`) or on `std` being named.
pub use std::vec::Vec;

/// `Box`, for the same reason: `Specs` hold data sections boxed.
pub use std::boxed::Box;

/// Raises the alignment of embedded object bytes to 8, as ELF parsing
/// of 64-bit objects expects.
#[repr(C, align(8))]
pub struct Aligned<T: ?Sized>(pub T);

/// Implemented when a Rust type's size (`RUST`) equals the size the
/// object's BTF gives (`Self`), so a mismatch is a compile error naming both.
#[diagnostic::on_unimplemented(
    message = "this type is {RUST} bytes, but the object's BTF says `{Self}`",
    label = "its size differs from the object's"
)]
pub trait SizeIs<const RUST: usize> {}

/// A map key of `N` bytes, as the object's BTF describes it.
pub struct BtfKeyBytes<const N: usize>;
/// A map value of `N` bytes, as the object's BTF describes it.
pub struct BtfValueBytes<const N: usize>;
/// A struct of `N` bytes, as the object's BTF describes it.
pub struct BtfStructBytes<const N: usize>;
/// A member at byte offset `N`, as the object's BTF describes it.
pub struct BtfOffset<const N: usize>;

impl<const N: usize> SizeIs<N> for BtfKeyBytes<N> {}
impl<const N: usize> SizeIs<N> for BtfValueBytes<N> {}
impl<const N: usize> SizeIs<N> for BtfStructBytes<N> {}
impl<const N: usize> OffsetIs<N> for BtfOffset<N> {}

/// Implemented when a field's offset in Rust (`RUST`) equals the offset
/// the object's BTF gives (`Self`).
#[diagnostic::on_unimplemented(
    message = "this field is at byte {RUST}, but the object's BTF says `{Self}`",
    label = "its offset differs from the object's"
)]
pub trait OffsetIs<const RUST: usize> {}

/// Compiles only when `B`'s offset is `RUST`.
pub const fn same_offset<B: OffsetIs<RUST>, const RUST: usize>() {}

/// Compiles only when `B`'s size is `RUST`.
pub const fn same_size<B: SizeIs<RUST>, const RUST: usize>() {}

/// Checks the layouts of a skeleton's generated types, one row each:
/// `(message, Rust size, planned size)`. Every gap in a generated struct is
/// padded explicitly, so a struct has its planned size exactly when no
/// field was moved by padding Rust added: when every field lies at its
/// planned offset (and every field's own type has its planned size).
pub const fn check_layouts(rows: &[(&str, usize, usize)]) {
    let mut i = 0;
    while i < rows.len() {
        let (message, size, planned) = rows[i];
        if size != planned {
            panic!("{}", message);
        }
        i += 1;
    }
}

/// Compiles only when `T` is plain data: `#[derive(Pod)]` and `#[layout]`
/// check each field with it.
pub const fn assert_pod<T: Pod>() {}

/// All zeroes, a valid value of any plain-data type (and of a section's
/// plain struct, whose `bool`s are then `false`): generated `Default`.
pub fn zeroed<T: SectionData>() -> T {
    crate::global::data_zeroed()
}

/// Whether two plain-data values have the same bytes: generated
/// `PartialEq` of types without padding or floats (a `bool` of a
/// section's plain struct is a 0 or a 1, so bytes compare as values).
pub fn bytes_eq<T: SectionData>(a: &T, b: &T) -> bool {
    crate::global::data_bytes(a) == crate::global::data_bytes(b)
}

/// The C name of a generated enum's value, from its table of names (the
/// first, when several names share a value).
pub fn enum_name<T: PartialEq + Copy>(
    value: T,
    names: &'static [(T, &'static str)],
) -> Option<&'static str> {
    names.iter().find(|(v, _)| *v == value).map(|(_, n)| *n)
}

/// A generated enum's `Debug`: its C name, or `Type(value)` for a value the
/// object does not declare.
pub fn enum_debug(
    f: &mut fmt::Formatter<'_>,
    type_name: &str,
    value: impl fmt::Display,
    name: Option<&str>,
) -> fmt::Result {
    match name {
        Some(name) => f.write_str(name),
        None => write!(f, "{type_name}({value})"),
    }
}

/// Reads a bitfield of `width` bits starting `bit` bits into `bytes`
/// (little-endian bit order, as BPF's little-endian targets lay them out),
/// sign-extended when `signed`.
pub fn bitfield_get(bytes: &[u8], bit: u32, width: u32, signed: bool) -> u64 {
    let raw = load(bytes);
    let width = width.clamp(1, 64);
    let value = (raw >> bit) as u64 & mask(width);
    if signed && width < 64 && value >> (width - 1) & 1 == 1 {
        value | !mask(width)
    } else {
        value
    }
}

/// Writes the low `width` bits of `value` into a bitfield, leaving the
/// other bits of `bytes` as they were.
pub fn bitfield_set(bytes: &mut [u8], bit: u32, width: u32, value: u64) {
    let width = width.clamp(1, 64);
    let field = u128::from(mask(width)) << bit;
    let raw = (load(bytes) & !field) | ((u128::from(value) << bit) & field);
    let raw = raw.to_le_bytes();
    let n = bytes.len().min(16);
    bytes[..n].copy_from_slice(&raw[..n]);
}

fn load(bytes: &[u8]) -> u128 {
    let mut raw = [0u8; 16];
    let n = bytes.len().min(16);
    raw[..n].copy_from_slice(&bytes[..n]);
    u128::from_le_bytes(raw)
}

fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1 << width) - 1
    }
}

/// Reads a `T` at `offset` of a union's bytes (zeroes where the bytes end
/// early, which the generated layout assertions rule out).
pub fn read_at<T: crate::Pod>(bytes: &[u8], offset: usize) -> T {
    let size = size_of::<T>();
    bytes
        .get(offset..offset + size)
        .and_then(|b| T::read_from_bytes(b))
        .unwrap_or_else(T::new_zeroed)
}

/// Writes `value` at `offset` of a union's bytes.
pub fn write_at<T: crate::Pod>(bytes: &mut [u8], offset: usize, value: &T) {
    let src = value.as_bytes();
    if let Some(dst) = bytes.get_mut(offset..offset + src.len()) {
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfields_round_trip() {
        let mut b = [0u8; 3];
        bitfield_set(&mut b, 3, 5, 0b10110);
        bitfield_set(&mut b, 8, 12, 0xabc);
        assert_eq!(bitfield_get(&b, 3, 5, false), 0b10110);
        assert_eq!(bitfield_get(&b, 8, 12, false), 0xabc);
        assert_eq!(b, [0b1011_0000, 0xbc, 0x0a]);
        // Signed: 0b10110 in 5 bits is -10.
        assert_eq!(bitfield_get(&b, 3, 5, true) as i64, -10);
        // Too-wide values are cut to the field.
        bitfield_set(&mut b, 0, 3, 0xff);
        assert_eq!(bitfield_get(&b, 0, 3, false), 7);
        assert_eq!(bitfield_get(&b, 3, 5, false), 0b10110);
    }

    #[test]
    fn a_64_bit_field_off_a_byte_boundary() {
        let mut b = [0u8; 9];
        bitfield_set(&mut b, 4, 64, u64::MAX - 1);
        assert_eq!(bitfield_get(&b, 4, 64, false), u64::MAX - 1);
    }

    #[test]
    fn union_members_read_and_write() {
        let mut bytes = [0u8; 8];
        write_at(&mut bytes, 0, &0x0102_0304u32);
        assert_eq!(read_at::<u32>(&bytes, 0), 0x0102_0304);
        assert_eq!(read_at::<u64>(&bytes, 4), 0, "out of range reads as zero");
    }
}
