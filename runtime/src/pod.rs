//! Plain data: the types that can cross into and out of the kernel as bytes.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A type any bytes of its size are a valid value of, with no padding and
/// no interior mutability: map keys and values, ring buffer records, global
/// variables. Generated types implement it through zerocopy's derives; for a
/// type of your own, derive `FromBytes`, `IntoBytes`, `Immutable` and
/// `KnownLayout` (re-exported as [`crate::zerocopy`]) on a `#[repr(C)]`
/// struct with explicit padding.
pub trait Pod: FromBytes + IntoBytes + Immutable + KnownLayout + Copy + 'static {}

impl<T: FromBytes + IntoBytes + Immutable + KnownLayout + Copy + 'static> Pod for T {}
