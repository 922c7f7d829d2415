//! Pinning's other half and freezing, on the byte [`Map`] and so on every
//! typed map (which pass them through). [`Map::pin`] and [`Map::from_pin`]
//! are in the parent module.

use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use libbpf_sys as sys;

use super::{open_pin, raw_info, Map};
use crate::error::{Error, Result};
use crate::os::errno::check;
use crate::os::fd::{expect_kind, ObjectKind};

impl Map {
    /// Removes the pin at `path`, after checking that it pins this map (so
    /// that a wrong path cannot remove another map's pin). The map stays in
    /// the kernel while any descriptor or pin refers to it.
    pub fn unpin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = || format!("unpinning map `{}` at {}", self.name(), path.display());
        let pinned = open_pin(path).map_err(|source| Error::sys(what(), source))?;
        // Map, program and link ids are separate: only a map's id says
        // whether the pin is this map's.
        expect_kind(pinned.as_fd(), ObjectKind::Map)
            .map_err(|source| Error::sys(what(), source))?;
        let id = raw_info(pinned.as_fd())
            .map_err(|source| Error::sys(format!("{}: not a map", what()), source))?
            .id;
        if id != self.info().id {
            return Err(Error::sys(
                format!(
                    "{}: it pins another map (id {id}, this map's is {})",
                    what(),
                    self.info().id
                ),
                io::Error::from_raw_os_error(libc::EINVAL),
            ));
        }
        std::fs::remove_file(path).map_err(|source| Error::sys(what(), source))
    }

    /// Makes the map read-only for user space (`BPF_MAP_FREEZE`): from now
    /// on updates and deletes through any descriptor fail with `EPERM`,
    /// while the map's programs may still write to it. There is no undoing
    /// it.
    pub fn freeze(&self) -> Result<()> {
        // SAFETY: a plain system call on a live descriptor.
        let ret = unsafe { sys::bpf_map_freeze(self.raw()) };
        check(ret).map_err(|source| self.error("freeze", source))?;
        Ok(())
    }
}
