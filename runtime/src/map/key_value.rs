//! The methods of the typed maps whose keys are `K` and whose values are
//! one plain `V` each ([`HashMap`](super::HashMap),
//! [`LpmTrie`](super::LpmTrie)): lookups, updates, iteration and batches.

/// Implements on `$name<K, V>` (a typed map as [`typed_map`] makes it) the
/// methods `get`, `insert`, `remove`, `keys`, `iter`, `get_batch`,
/// `update_batch`, `delete_batch`, `entries_batched` and `iter_batched`.
/// Each method's docs come from the invocation, in that order, so that
/// each map says in its own words what its kind does differently (an LPM
/// trie's longest-prefix lookup, say).
///
/// [`typed_map`]: super::typed::typed_map
macro_rules! key_value_map {
    (
        $name:ident,
        $(#[$get:meta])* get,
        $(#[$insert:meta])* insert,
        $(#[$remove:meta])* remove,
        $(#[$keys:meta])* keys,
        $(#[$iter:meta])* iter,
        $(#[$get_batch:meta])* get_batch,
        $(#[$update_batch:meta])* update_batch,
        $(#[$delete_batch:meta])* delete_batch,
        $(#[$entries_batched:meta])* entries_batched,
        $(#[$iter_batched:meta])* iter_batched $(,)?
    ) => {
        impl<K: $crate::Pod, V: $crate::Pod> $name<K, V> {
            $(#[$get])*
            #[inline]
            pub fn get(&self, key: &K) -> $crate::Result<Option<V>> {
                $crate::map::typed::lookup(&self.map, key)
            }

            $(#[$insert])*
            #[inline]
            pub fn insert(
                &self,
                key: &K,
                value: &V,
                flags: $crate::UpdateFlags,
            ) -> $crate::Result<()> {
                self.map.update(key.as_bytes(), value.as_bytes(), flags)
            }

            $(#[$remove])*
            pub fn remove(&self, key: &K) -> $crate::Result<bool> {
                self.map.delete(key.as_bytes())
            }

            $(#[$keys])*
            pub fn keys(&self) -> $crate::map::TypedKeys<'_, K> {
                $crate::map::TypedKeys::new(&self.map)
            }

            $(#[$iter])*
            pub fn iter(&self) -> $crate::map::Entries<'_, K, V> {
                $crate::map::Entries::new(&self.map, $crate::map::typed::lookup::<K, V>)
            }

            $(#[$get_batch])*
            pub fn get_batch(
                &self,
                cursor: &mut $crate::map::BatchCursor,
                keys: &mut [K],
                values: &mut [V],
            ) -> $crate::Result<usize> {
                $crate::map::batch::get_plain(&self.map, cursor, keys, values)
            }

            $(#[$update_batch])*
            pub fn update_batch(
                &self,
                keys: &[K],
                values: &[V],
                flags: $crate::UpdateFlags,
            ) -> $crate::Result<()> {
                $crate::map::batch::update_plain(&self.map, keys, values, flags)
            }

            $(#[$delete_batch])*
            pub fn delete_batch(&self, keys: &[K]) -> $crate::Result<usize> {
                $crate::map::batch::delete_keys(&self.map, keys)
            }

            $(#[$entries_batched])*
            pub fn entries_batched(&self) -> $crate::Result<Vec<(K, V)>> {
                let decode = $crate::map::batch::decode_plain::<V>;
                match $crate::map::batch::read_all(&self.map, decode)? {
                    Some(entries) => Ok(entries),
                    None => self.iter().collect(),
                }
            }

            $(#[$iter_batched])*
            pub fn iter_batched(&self, batch_size: usize) -> $crate::map::BatchIter<'_, K, V> {
                let decode = $crate::map::batch::decode_plain::<V>;
                $crate::map::BatchIter::new(&self.map, batch_size, decode)
            }
        }
    };
}

pub(super) use key_value_map;
