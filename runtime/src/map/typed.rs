//! What every typed map shares: the kind and size checks that make one from
//! a [`Map`], the accessors and pass-throughs every typed map has (pinning
//! and freezing live on [`Map`]), and typed iteration over keys and entries.

use std::ptr;

use libbpf_sys as sys;

use super::{Map, MapType};
use crate::error::{check, Error, Result};
use crate::Pod;

/// Checks that `map` is one of `kinds` and that its keys and values have the
/// sizes given (`None` skips a check). `op` names the conversion in errors,
/// e.g. `open as HashMap`.
pub(super) fn check_map(
    map: &Map,
    op: &'static str,
    kinds: &'static [MapType],
    key: Option<usize>,
    value: Option<usize>,
) -> Result<()> {
    let info = map.info();
    if !kinds.contains(&info.map_type) {
        return Err(Error::MapKind {
            map: map.name().to_owned(),
            expected: kinds,
            actual: info.map_type,
        });
    }
    if let Some(key) = key {
        map.check_size(op, "key", info.key_size as usize, key)?;
    }
    if let Some(value) = value {
        map.check_size(op, "value", info.value_size as usize, value)?;
    }
    Ok(())
}

/// Implements what every typed map has: `TryFrom<Map>` (checking the kind
/// and the sizes), `map`, `into_map`, `name`, `info`, `from_pin`, `pin`,
/// `unpin`, `freeze`, `AsFd` and `Debug`. The type must be a struct with the
/// fields `map: Map` and `_types: PhantomData<fn() -> (its generics,)>`;
/// a type with more fields (a mapping of the map, say) gives `open`, a
/// function that makes it from the checked map.
macro_rules! typed_map {
    (
        $name:ident $(<$($g:ident),+>)?,
        kinds: [$($kind:ident),+],
        key: $key:expr,
        value: $value:expr $(,)?
    ) => {
        $crate::map::typed::typed_map!(
            $name $(<$($g),+>)?,
            kinds: [$($kind),+],
            key: $key,
            value: $value,
            open: |map| Ok($name {
                map,
                _types: ::std::marker::PhantomData,
            }),
        );
    };
    (
        $name:ident $(<$($g:ident),+>)?,
        kinds: [$($kind:ident),+],
        key: $key:expr,
        value: $value:expr,
        open: $open:expr $(,)?
    ) => {
        impl $(<$($g: $crate::Pod),+>)? ::std::convert::TryFrom<$crate::Map>
            for $name $(<$($g),+>)?
        {
            type Error = $crate::Error;

            /// Checks the map's kind and its key and value sizes against this
            /// type's; the error names the map and both sides.
            fn try_from(map: $crate::Map) -> $crate::Result<Self> {
                $crate::map::typed::check_map(
                    &map,
                    concat!("open as ", stringify!($name)),
                    &[$($crate::MapType::$kind),+],
                    $key,
                    $value,
                )?;
                let open: fn($crate::Map) -> $crate::Result<Self> = $open;
                open(map)
            }
        }

        impl $(<$($g: $crate::Pod),+>)? $name $(<$($g),+>)? {
            /// The byte-level map underneath, for what this type does not
            /// offer.
            pub fn map(&self) -> &$crate::Map {
                &self.map
            }

            /// Gives back the byte-level map.
            pub fn into_map(self) -> $crate::Map {
                self.map
            }

            /// The map's name.
            pub fn name(&self) -> &str {
                self.map.name()
            }

            /// What the kernel says about the map.
            pub fn info(&self) -> &$crate::MapInfo {
                self.map.info()
            }

            /// Opens the map pinned in bpffs at `path` as this type, checking
            /// its kind and sizes as `try_from` does.
            pub fn from_pin(path: impl AsRef<::std::path::Path>) -> $crate::Result<Self> {
                $crate::Map::from_pin(path)?.try_into()
            }

            /// Pins the map at `path` in bpffs, so that it outlives this
            /// process; see [`Map::pin`](crate::Map::pin).
            pub fn pin(&self, path: impl AsRef<::std::path::Path>) -> $crate::Result<()> {
                self.map.pin(path)
            }

            /// Removes the pin at `path`, which must pin this map; see
            /// [`Map::unpin`](crate::Map::unpin).
            pub fn unpin(&self, path: impl AsRef<::std::path::Path>) -> $crate::Result<()> {
                self.map.unpin(path)
            }

            /// Makes the map read-only for user space (`BPF_MAP_FREEZE`);
            /// see [`Map::freeze`](crate::Map::freeze).
            pub fn freeze(&self) -> $crate::Result<()> {
                self.map.freeze()
            }

            /// Creates a map of no object as `spec` says, checking its kind
            /// and sizes as `try_from` does; see
            /// [`MapSpec::create`](crate::MapSpec::create).
            pub fn from_spec(spec: &$crate::MapSpec) -> $crate::Result<Self> {
                spec.create()?.try_into()
            }
        }

        impl $(<$($g: $crate::Pod),+>)? ::std::convert::From<$name $(<$($g),+>)?>
            for $crate::Map
        {
            /// Gives back the byte-level map, as `into_map` does.
            fn from(typed: $name $(<$($g),+>)?) -> $crate::Map {
                typed.map
            }
        }

        impl $(<$($g: $crate::Pod),+>)? ::std::os::fd::AsFd for $name $(<$($g),+>)? {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                self.map.as_fd()
            }
        }

        impl $(<$($g: $crate::Pod),+>)? ::std::fmt::Debug for $name $(<$($g),+>)? {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let types: &[&str] = &[$($(::std::any::type_name::<$g>()),+)?];
                f.debug_struct(stringify!($name))
                    .field("name", &self.map.name())
                    .field("types", &types)
                    .field("info", self.map.info())
                    .finish()
            }
        }
    };
}

pub(super) use typed_map;

/// `len` and `is_empty` of a typed map whose entries are the slots
/// `0..max_entries` (an array of some kind).
macro_rules! slots {
    ($name:ident) => {
        impl $name {
            /// The number of slots (the map's `max_entries`).
            pub fn len(&self) -> u32 {
                self.map.info().max_entries
            }

            /// Whether the map has no slots.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }
    };
}

pub(super) use slots;

/// The keys of a map as values of `K`, in the kernel's order
/// (`BPF_MAP_GET_NEXT_KEY`); see e.g. [`HashMap::keys`](super::HashMap::keys).
///
/// Entries added or removed while iterating may or may not be seen; when
/// the previous key of a hash map is removed meanwhile, the kernel starts
/// over from the first key.
pub struct TypedKeys<'a, K> {
    map: &'a Map,
    prev: Option<K>,
    done: bool,
}

impl<'a, K: Pod> TypedKeys<'a, K> {
    pub(super) fn new(map: &'a Map) -> Self {
        TypedKeys {
            map,
            prev: None,
            done: false,
        }
    }
}

impl<K: Pod> Iterator for TypedKeys<'_, K> {
    type Item = Result<K>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut next = K::new_zeroed();
        if let Err(e) = self.map.check_key("iterate keys", next.as_bytes()) {
            self.done = true;
            return Some(Err(e));
        }
        let prev = self
            .prev
            .as_ref()
            .map_or(ptr::null(), |k| k.as_bytes().as_ptr());
        // SAFETY: `next` (and `prev`, when not NULL) is a `K`, whose size was
        // just checked to be the map's key size.
        let ret = unsafe {
            sys::bpf_map_get_next_key(
                self.map.raw(),
                prev.cast(),
                next.as_mut_bytes().as_mut_ptr().cast(),
            )
        };
        match check(ret) {
            Ok(_) => {
                self.prev = Some(next);
                Some(Ok(next))
            }
            Err(e) => {
                self.done = true;
                let end = e.raw_os_error() == Some(libc::ENOENT);
                (!end).then(|| Err(self.map.error("iterate keys", e)))
            }
        }
    }
}

/// The entries of a map as `(K, V)` pairs: each key of [`TypedKeys`] and
/// its value, looked up one by one. A key removed between the two steps is
/// skipped. For a whole map at once, the `entries_batched` methods take far
/// fewer system calls.
pub struct Entries<'a, K, V> {
    keys: TypedKeys<'a, K>,
    lookup: fn(&Map, &K) -> Result<Option<V>>,
}

impl<'a, K: Pod, V> Entries<'a, K, V> {
    pub(super) fn new(map: &'a Map, lookup: fn(&Map, &K) -> Result<Option<V>>) -> Self {
        Entries {
            keys: TypedKeys::new(map),
            lookup,
        }
    }
}

impl<K: Pod, V> Iterator for Entries<'_, K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = match self.keys.next()? {
                Ok(key) => key,
                Err(e) => return Some(Err(e)),
            };
            match (self.lookup)(self.keys.map, &key) {
                Ok(Some(value)) => return Some(Ok((key, value))),
                Ok(None) => continue,
                Err(e) => {
                    self.keys.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The value under `key` as a `V`; no allocation.
#[inline]
pub(super) fn lookup<K: Pod, V: Pod>(map: &Map, key: &K) -> Result<Option<V>> {
    let mut value = V::new_zeroed();
    Ok(map
        .lookup_into(key.as_bytes(), value.as_mut_bytes())?
        .then_some(value))
}
