//! Pinning programs in bpffs, so that they outlive this process, and
//! opening pinned programs.

use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use super::Program;
use crate::error::{Error, Result};
use crate::libbpf::{open_pin, prog_info};
use crate::os::errno::check;
use crate::os::fd::{expect_kind, ObjectKind};

impl Program {
    /// Pins the program at `path` in bpffs: it stays in the kernel, and
    /// other processes can open it ([`Program::from_pin`]) and attach it.
    /// The path must be in a mounted bpffs (`/sys/fs/bpf`) and free.
    ///
    /// ```no_run
    /// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
    /// program.pin("/sys/fs/bpf/my_counter")?;
    /// // Another process, later: Program::from_pin("/sys/fs/bpf/my_counter")
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = || format!("pinning program `{}` at {}", self.name, path.display());
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| Error::sys(what(), std::io::Error::other(e)))?;
        let fd = self.fd()?;
        // SAFETY: a live descriptor and a valid C string.
        let ret = unsafe { libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), c_path.as_ptr()) };
        check(ret)
            .map(drop)
            .map_err(|source| Error::sys(what(), source))
    }

    /// Removes the pin at `path`, after checking that it pins this program
    /// (a pin of another program, a map or a link is left alone, and an
    /// error says so). The program stays loaded while something else holds
    /// it: this handle, another pin, a link.
    ///
    /// ```no_run
    /// use ebpf_skeleton::Program;
    /// # fn main() -> ebpf_skeleton::Result<()> {
    /// let program = Program::from_pin("/sys/fs/bpf/my_counter")?;
    /// program.unpin("/sys/fs/bpf/my_counter")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn unpin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let what = || format!("unpinning program `{}` at {}", self.name, path.display());
        let pinned = open_pin(path).map_err(|source| Error::sys(what(), source))?;
        expect_kind(pinned.as_fd(), ObjectKind::Program)
            .map_err(|source| Error::sys(what(), source))?;
        let theirs = prog_info(pinned.as_fd())
            .map_err(|source| Error::sys(what(), source))?
            .id;
        if theirs != self.id()? {
            return Err(Error::sys(
                what(),
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "it pins another program"),
            ));
        }
        std::fs::remove_file(path).map_err(|source| Error::sys(what(), source))
    }

    /// Opens the program pinned at `path` (by this process or another) as a
    /// program held by its descriptor: its name and type are the kernel's.
    /// Attach it to an explicit target; the kernel does not say which hook
    /// a program was loaded for, so a tcx or cgroup program needs its hook
    /// in the options ([`TcxOptions::ingress`](crate::link::TcxOptions::ingress),
    /// [`CgroupOptions::hook`](crate::link::CgroupOptions::hook)).
    ///
    /// ```no_run
    /// use ebpf_skeleton::Program;
    /// # fn main() -> ebpf_skeleton::Result<()> {
    /// let program = Program::from_pin("/sys/fs/bpf/my_counter")?;
    /// let _link = program.attach_raw_tracepoint("sys_enter")?;
    /// // It counts into the maps it uses, which open by id:
    /// let counts = ebpf_skeleton::Map::from_id(program.info()?.map_ids[0])?;
    /// println!("{} keys", counts.keys().count());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Program> {
        let path = path.as_ref();
        let fd = open_pin(path).map_err(|source| {
            Error::sys(
                format!("opening the program pinned at {}", path.display()),
                source,
            )
        })?;
        Program::from_fd(fd)
    }
}
