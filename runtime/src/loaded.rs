//! Every program, map and link loaded in the kernel, by any process: their
//! ids, and handles opened by id — what `bpftool prog show`, `bpftool map
//! show` and `bpftool link show` list, typed.
//!
//! Listing needs `CAP_SYS_ADMIN` (the kernel refuses `BPF_*_GET_NEXT_ID`
//! otherwise), and so does opening by id.
//!
//! ```no_run
//! for program in ebpf_skeleton::loaded::programs() {
//!     let info = program?.info()?;
//!     println!("{:>6} {:<16} {:?}", info.id, info.name, info.program_type);
//! }
//! # Ok::<(), ebpf_skeleton::Error>(())
//! ```
//!
//! The kernel's lists change while they are read: an object freed between
//! reading its id and opening it is skipped, as it is no longer loaded.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::os::errno::check;
use crate::{Link, Map, Program};

/// The three id spaces of the kernel's BPF objects. A program, a map and a
/// link may have the same number as id.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Space {
    Program,
    Map,
    Link,
}

impl Space {
    fn name(self) -> &'static str {
        match self {
            Space::Program => "program",
            Space::Map => "map",
            Space::Link => "link",
        }
    }

    /// The id after `id` in this space, `None` past the last.
    fn next(self, id: u32) -> io::Result<Option<u32>> {
        let mut next = 0;
        // SAFETY: `next` is writable; the calls only write it.
        let rc = unsafe {
            match self {
                Space::Program => sys::bpf_prog_get_next_id(id, &mut next),
                Space::Map => sys::bpf_map_get_next_id(id, &mut next),
                Space::Link => sys::bpf_link_get_next_id(id, &mut next),
            }
        };
        match check(rc) {
            Ok(_) => Ok(Some(next)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A new descriptor of the object with this id.
    fn open(self, id: u32) -> io::Result<OwnedFd> {
        // SAFETY: plain syscalls wrappers taking an integer.
        let fd = check(unsafe {
            match self {
                Space::Program => sys::bpf_prog_get_fd_by_id(id),
                Space::Map => sys::bpf_map_get_fd_by_id(id),
                Space::Link => sys::bpf_link_get_fd_by_id(id),
            }
        })?;
        // SAFETY: the kernel just returned this descriptor, owned by no one.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// Ids of one space, in increasing order.
struct Ids {
    space: Space,
    last: u32,
    done: bool,
}

impl Iterator for Ids {
    type Item = Result<u32>;

    fn next(&mut self) -> Option<Result<u32>> {
        if self.done {
            return None;
        }
        match self.space.next(self.last) {
            Ok(Some(id)) => {
                self.last = id;
                Some(Ok(id))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(source) => {
                self.done = true;
                Some(Err(Error::sys(
                    format!("listing the kernel's {}s", self.space.name()),
                    source,
                )))
            }
        }
    }
}

fn ids(space: Space) -> Ids {
    Ids {
        space,
        last: 0,
        done: false,
    }
}

/// Opens every object of `space`, skipping those freed since their id was
/// read.
fn open_all<T>(
    space: Space,
    wrap: impl Fn(u32, OwnedFd) -> Result<T>,
) -> impl Iterator<Item = Result<T>> {
    ids(space).filter_map(move |id| {
        let id = match id {
            Ok(id) => id,
            Err(e) => return Some(Err(e)),
        };
        match space.open(id) {
            Ok(fd) => Some(wrap(id, fd)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => None,
            Err(source) => Some(Err(open_error(space, id, source))),
        }
    })
}

fn open_error(space: Space, id: u32, source: io::Error) -> Error {
    Error::sys(format!("opening {} id {id}", space.name()), source)
}

/// A new descriptor of the object of `space` with this id.
pub(crate) fn open(space: Space, id: u32) -> Result<OwnedFd> {
    space
        .open(id)
        .map_err(|source| open_error(space, id, source))
}

/// The ids of every program loaded in the kernel, in increasing order.
pub fn program_ids() -> impl Iterator<Item = Result<u32>> {
    ids(Space::Program)
}

/// The ids of every map in the kernel, in increasing order.
pub fn map_ids() -> impl Iterator<Item = Result<u32>> {
    ids(Space::Map)
}

/// The ids of every link in the kernel, in increasing order.
pub fn link_ids() -> impl Iterator<Item = Result<u32>> {
    ids(Space::Link)
}

/// Every program loaded in the kernel, opened by id.
pub fn programs() -> impl Iterator<Item = Result<Program>> {
    open_all(Space::Program, |_, fd| Program::from_fd(fd))
}

/// Every map in the kernel, opened by id; each is named by its kernel name.
///
/// ```no_run
/// for map in ebpf_skeleton::loaded::maps() {
///     let map = map?;
///     println!("{:>6} {:<16} {:?}", map.info().id, map.kernel_name(), map.map_type());
/// }
/// # Ok::<(), ebpf_skeleton::Error>(())
/// ```
pub fn maps() -> impl Iterator<Item = Result<Map>> {
    open_all(Space::Map, |_, fd| Map::from_kernel_fd(fd))
}

/// Every link in the kernel, opened by id. Dropping one of these handles
/// does not detach its link: the process or pin that made it still holds it.
pub fn links() -> impl Iterator<Item = Result<Link>> {
    open_all(Space::Link, |id, fd| Ok(Link::from_id_fd(id, fd)))
}
