//! Iterating over a map's keys with `BPF_MAP_GET_NEXT_KEY`.

use libbpf_sys as sys;

use super::Map;
use crate::error::{check, Result};

/// The keys of a map, as byte vectors; see [`Map::keys`].
pub struct Keys<'a> {
    map: &'a Map,
    prev: Option<Vec<u8>>,
    done: bool,
}

impl<'a> Keys<'a> {
    pub(crate) fn new(map: &'a Map) -> Self {
        Keys {
            map,
            prev: None,
            done: false,
        }
    }
}

impl Iterator for Keys<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut next = vec![0u8; self.map.info().key_size as usize];
        let prev = self.prev.as_ref().map_or(std::ptr::null(), |k| k.as_ptr());
        // SAFETY: `prev` is NULL or a key of the map's size; `next` too.
        let ret = unsafe {
            sys::bpf_map_get_next_key(self.map.raw(), prev.cast(), next.as_mut_ptr().cast())
        };
        match check(ret) {
            Ok(_) => {
                self.prev = Some(next.clone());
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
