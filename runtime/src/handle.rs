//! The libbpf object behind an [`OpenObject`](crate::OpenObject) and, once
//! loaded, shared by every [`Program`](crate::Program) and
//! [`Link`](crate::Link) made from it, so that none of them can outlive it.
//!
//! libbpf changes some of an object's state after load: attaching a USDT
//! program creates the object's USDT manager and grows its spec-id lists,
//! detaching shrinks them, registering struct_ops touches the map. None of
//! that is locked inside libbpf, so every such call goes through
//! [`ObjectHandle::lock`]. Everything else done through a shared handle
//! reads what libbpf no longer changes after load (names, descriptors,
//! types).
//!
//! The object closes when the handle's last `Arc` goes, or later, when a
//! map handle of one of its arenas goes: libbpf maps an arena at load (the
//! one mapping of it a process may have) and unmaps it on close.

use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use libbpf_sys as sys;

use crate::libbpf::{map_name, maps_of, program_name, programs_of};

/// A libbpf object, closed when the last of its users is gone: this handle
/// and any [`KeepOpen`] taken from it.
pub(crate) struct ObjectHandle {
    ptr: NonNull<sys::bpf_object>,
    name: String,
    /// Taken by every libbpf call that changes object-owned state after load.
    lock: Mutex<()>,
    programs: Index<sys::bpf_program>,
    maps: Index<sys::bpf_map>,
    /// The verifier's logs of successful loads that asked for one, by
    /// program name; written once, at load.
    verifier_logs: HashMap<String, String>,
    /// Closes the object (and frees its bytes) when the last `Arc` goes.
    _closer: Arc<Closer>,
}

/// What closes a libbpf object. An `ObjectHandle` holds it, and so does a
/// map whose memory is a mapping libbpf owns (an arena's: the kernel lets a
/// process map an arena once, and libbpf maps it at load and unmaps it when
/// the object closes).
struct Closer {
    ptr: NonNull<sys::bpf_object>,
    /// The bytes libbpf parsed the object from, when they are not
    /// `'static`; libbpf reads them as long as the object is open, and
    /// fields drop after `Drop::drop` closed it.
    _bytes: Option<Arc<[u8]>>,
}

// SAFETY: a `Closer` does nothing with the object but close it, once, in
// `Drop`, when no handle, program, link or map uses it any more.
unsafe impl Send for Closer {}
// SAFETY: as above; `&Closer` gives access to nothing.
unsafe impl Sync for Closer {}

/// Keeps a libbpf object open (and the mappings libbpf owns in it mapped)
/// while it lives.
#[derive(Clone)]
pub(crate) struct KeepOpen {
    _closer: Arc<Closer>,
}

impl std::fmt::Debug for KeepOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeepOpen")
    }
}

/// The arena maps of every open object (libbpf map pointers, as addresses)
/// with their object's closer: a map handle made of one keeps the object,
/// and so libbpf's mapping of the arena, alive.
static ARENAS: Mutex<Vec<(usize, Weak<Closer>)>> = Mutex::new(Vec::new());

/// Keeps the object of the arena map `map` open, when `map` is an arena
/// of an open object.
pub(crate) fn keep_arena_open(map: NonNull<sys::bpf_map>) -> Option<KeepOpen> {
    let arenas = ARENAS.lock().unwrap_or_else(|e| e.into_inner());
    arenas
        .iter()
        .find(|(ptr, _)| *ptr == map.as_ptr() as usize)
        .and_then(|(_, closer)| closer.upgrade())
        .map(|closer| KeepOpen { _closer: closer })
}

// SAFETY: a libbpf object is not tied to the thread that opened it. Before
// load the handle is owned by one `OpenObject`, which changes it only
// through `&mut self`. After load, everything done through `&ObjectHandle`
// either reads state libbpf no longer changes (names, sections, descriptors,
// types, the index) or is a libbpf call that changes object-owned state
// (attach and detach, struct_ops registration), and those hold `lock` for
// the whole call. The object is closed once, in `Drop`, when the last
// handle goes.
unsafe impl Send for ObjectHandle {}
// SAFETY: as above.
unsafe impl Sync for ObjectHandle {}

/// Names to libbpf pointers, in the object's order, looked up by name
/// without scanning.
struct Index<T> {
    order: Vec<(String, NonNull<T>)>,
    by_name: HashMap<String, usize>,
}

impl<T> Index<T> {
    fn new(items: impl Iterator<Item = NonNull<T>>, name: fn(*const T) -> String) -> Self {
        let order: Vec<(String, NonNull<T>)> = items.map(|p| (name(p.as_ptr()), p)).collect();
        let by_name = order
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), i))
            .collect();
        Index { order, by_name }
    }

    fn get(&self, name: &str) -> Option<NonNull<T>> {
        self.by_name.get(name).map(|&i| self.order[i].1)
    }

    fn iter(&self) -> impl Iterator<Item = (&str, NonNull<T>)> {
        self.order.iter().map(|(name, ptr)| (name.as_str(), *ptr))
    }
}

impl ObjectHandle {
    /// Takes ownership of an open libbpf object.
    pub(crate) fn new(
        ptr: NonNull<sys::bpf_object>,
        name: String,
        bytes: Option<Arc<[u8]>>,
    ) -> Self {
        let closer = Arc::new(Closer { ptr, _bytes: bytes });
        let maps = Index::new(maps_of(ptr), map_name);
        let is_arena = |map: NonNull<sys::bpf_map>| {
            // SAFETY: `map` belongs to the open object.
            unsafe { sys::bpf_map__type(map.as_ptr()) == sys::BPF_MAP_TYPE_ARENA }
        };
        let arenas: Vec<_> = maps
            .iter()
            .filter(|&(_, map)| is_arena(map))
            .map(|(_, map)| (map.as_ptr() as usize, Arc::downgrade(&closer)))
            .collect();
        if !arenas.is_empty() {
            ARENAS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(arenas);
        }
        ObjectHandle {
            programs: Index::new(programs_of(ptr), program_name),
            maps,
            ptr,
            name,
            lock: Mutex::new(()),
            verifier_logs: HashMap::new(),
            _closer: closer,
        }
    }

    /// The object's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The libbpf object.
    pub(crate) fn ptr(&self) -> NonNull<sys::bpf_object> {
        self.ptr
    }

    /// The program `name`.
    pub(crate) fn program(&self, name: &str) -> Option<NonNull<sys::bpf_program>> {
        self.programs.get(name)
    }

    /// Every program with its name, in section order.
    pub(crate) fn programs(&self) -> impl Iterator<Item = (&str, NonNull<sys::bpf_program>)> {
        self.programs.iter()
    }

    /// The map `name` (libbpf's name; data sections go by `<object>.bss`).
    pub(crate) fn map(&self, name: &str) -> Option<NonNull<sys::bpf_map>> {
        self.maps.get(name)
    }

    /// Every map with its name.
    pub(crate) fn maps(&self) -> impl Iterator<Item = (&str, NonNull<sys::bpf_map>)> {
        self.maps.iter()
    }

    /// The verifier's log of the program `name`'s load, if one was kept.
    pub(crate) fn verifier_log(&self, name: &str) -> Option<&str> {
        self.verifier_logs.get(name).map(String::as_str)
    }

    /// Keeps the verifier's logs of a load (before the handle is shared).
    pub(crate) fn keep_verifier_logs(&mut self, logs: HashMap<String, String>) {
        self.verifier_logs = logs;
    }

    /// Holds off every other change to object-owned state until dropped.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves nothing half-done on our
        // side (libbpf's call either returned or did not run).
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Closer {
    fn drop(&mut self) {
        // This closer's entries (its strong count is 0 by now), before
        // libbpf frees the maps whose addresses they hold.
        ARENAS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(_, closer)| closer.strong_count() > 0);
        // SAFETY: the pointer came from libbpf's open and is closed only
        // here; every program, map and link pointer into it is gone, as they
        // all hold the handle, and every arena map handle holds this closer.
        unsafe { sys::bpf_object__close(self.ptr.as_ptr()) }
    }
}
