//! Queues and stacks: `BPF_MAP_TYPE_QUEUE` (first in, first out) and
//! `BPF_MAP_TYPE_STACK` (last in, first out). They have no keys.

use std::marker::PhantomData;

use super::create::{create_as, spec_of};
use super::typed::typed_map;
use super::{Map, MapType, UpdateFlags};
use crate::error::Result;
use crate::Pod;

/// Pushes, pops and peeks, shared by [`Queue`] and [`Stack`].
macro_rules! push_pop {
    ($name:ident, $kind:ident, $order:literal) => {
        impl<V: Pod> $name<V> {
            #[doc = concat!("Creates a map of no object (`BPF_MAP_TYPE_", stringify!($kind), "`)")]
            /// for up to `max_entries` elements.
            pub fn create(name: impl Into<String>, max_entries: u32) -> Result<Self> {
                create_as(spec_of::<(), V>(name, MapType::$kind, max_entries))
            }

            /// Adds `value`. When the map is full this fails with `E2BIG`,
            /// unless `flags` is [`UpdateFlags::EXIST`], which drops the
            /// oldest element to make room.
            #[inline]
            pub fn push(&self, value: &V, flags: UpdateFlags) -> Result<()> {
                self.map.update(&[], value.as_bytes(), flags)
            }

            #[doc = concat!("Removes and returns the ", $order, " element; `None` when empty.")]
            /// Allocates nothing.
            #[inline]
            pub fn pop(&self) -> Result<Option<V>> {
                let mut value = V::new_zeroed();
                Ok(self
                    .map
                    .lookup_and_delete_into(&[], value.as_mut_bytes())?
                    .then_some(value))
            }

            #[doc = concat!("The ", $order, " element, left in place; `None` when empty.")]
            #[inline]
            pub fn peek(&self) -> Result<Option<V>> {
                let mut value = V::new_zeroed();
                Ok(self
                    .map
                    .lookup_into(&[], value.as_mut_bytes())?
                    .then_some(value))
            }

            /// The most elements the map holds.
            pub fn capacity(&self) -> u32 {
                self.map.info().max_entries
            }
        }
    };
}

/// A queue (`BPF_MAP_TYPE_QUEUE`) of `V`s: [`Queue::pop`] returns the
/// oldest element.
///
/// Made from a [`Map`] with `Queue::<V>::try_from(map)`.
pub struct Queue<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(Queue<V>, kinds: [QUEUE], key: Some(0), value: Some(size_of::<V>()));
push_pop!(Queue, QUEUE, "oldest");

/// A stack (`BPF_MAP_TYPE_STACK`) of `V`s: [`Stack::pop`] returns the
/// newest element.
///
/// Made from a [`Map`] with `Stack::<V>::try_from(map)`.
pub struct Stack<V> {
    map: Map,
    _types: PhantomData<fn() -> (V,)>,
}

typed_map!(Stack<V>, kinds: [STACK], key: Some(0), value: Some(size_of::<V>()));
push_pop!(Stack, STACK, "newest");
