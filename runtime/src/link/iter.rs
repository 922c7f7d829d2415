//! BPF iterators: an `iter/...` program attached as a link (with what it
//! walks: a map's elements, a cgroup's tree, one task), and each read of
//! the iterator running the program over the kernel objects, its output
//! read like a file (`seq_file`).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use super::Link;
use crate::error::{Error, Result};
use crate::os::errno::check;

/// The order a cgroup iterator walks in from its cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupIterOrder {
    /// The cgroup alone.
    #[default]
    SelfOnly,
    /// The cgroup and its descendants, parents first.
    DescendantsPre,
    /// The cgroup and its descendants, children first.
    DescendantsPost,
    /// The cgroup and its ancestors up to the root.
    AncestorsUp,
    /// The cgroup's children (Linux 6.15).
    Children,
}

impl CgroupIterOrder {
    fn kernel(self) -> sys::bpf_cgroup_iter_order {
        match self {
            CgroupIterOrder::SelfOnly => sys::BPF_CGROUP_ITER_SELF_ONLY,
            CgroupIterOrder::DescendantsPre => sys::BPF_CGROUP_ITER_DESCENDANTS_PRE,
            CgroupIterOrder::DescendantsPost => sys::BPF_CGROUP_ITER_DESCENDANTS_POST,
            CgroupIterOrder::AncestorsUp => sys::BPF_CGROUP_ITER_ANCESTORS_UP,
            CgroupIterOrder::Children => sys::BPF_CGROUP_ITER_CHILDREN,
        }
    }
}

/// What an iterator walks, for the targets that take a parameter; by
/// default, everything of its kind (every task, every map, ...).
///
/// ```no_run
/// use ebpf_skeleton::link::IterOptions;
/// # fn example(dump: &ebpf_skeleton::Program, counts: &ebpf_skeleton::Map) -> ebpf_skeleton::Result<()> {
/// let link = dump.attach_iter(&IterOptions::map(counts))?; // an `iter/bpf_map_elem` program
/// let text = link.read_iter_to_string()?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct IterOptions<'a> {
    on: On<'a>,
}

#[derive(Debug, Clone, Copy, Default)]
enum On<'a> {
    #[default]
    Everything,
    Map(BorrowedFd<'a>),
    Cgroup(BorrowedFd<'a>, CgroupIterOrder),
    CgroupId(u64, CgroupIterOrder),
    Thread(u32),
    Process(u32),
    Pidfd(BorrowedFd<'a>),
}

impl<'a> IterOptions<'a> {
    /// Everything the target walks.
    pub fn new() -> Self {
        Self::default()
    }

    /// The elements of `map` (`iter/bpf_map_elem`, `iter/bpf_sk_storage_map`,
    /// `iter/sockmap`).
    pub fn map(map: &'a impl AsFd) -> Self {
        Self::on(On::Map(map.as_fd()))
    }

    /// The cgroup v2 directory opened as `cgroup`, walked in `order`
    /// (`iter/cgroup`, Linux 6.1).
    pub fn cgroup(cgroup: &'a impl AsFd, order: CgroupIterOrder) -> Self {
        Self::on(On::Cgroup(cgroup.as_fd(), order))
    }

    /// The cgroup of id `id` (its directory's inode number), walked in
    /// `order`.
    pub fn cgroup_id(id: u64, order: CgroupIterOrder) -> Self {
        Self::on(On::CgroupId(id, order))
    }

    /// The thread `tid` alone (`iter/task`, `iter/task_file`,
    /// `iter/task_vma`, Linux 6.1).
    pub fn thread(tid: u32) -> Self {
        Self::on(On::Thread(tid))
    }

    /// The threads of the process `pid`.
    pub fn process(pid: u32) -> Self {
        Self::on(On::Process(pid))
    }

    /// The threads of the process the pidfd `pidfd` refers to.
    pub fn pidfd(pidfd: &'a impl AsFd) -> Self {
        Self::on(On::Pidfd(pidfd.as_fd()))
    }

    fn on(on: On<'a>) -> Self {
        IterOptions { on }
    }

    /// The kernel's parameter, or `None` for none.
    pub(crate) fn link_info(&self) -> Option<sys::bpf_iter_link_info> {
        let mut info = sys::bpf_iter_link_info::default();
        match self.on {
            On::Everything => return None,
            On::Map(fd) => info.map.map_fd = fd.as_raw_fd() as u32,
            On::Cgroup(fd, order) => {
                info.cgroup = sys::bpf_iter_link_info__bindgen_ty_2 {
                    order: order.kernel(),
                    cgroup_fd: fd.as_raw_fd() as u32,
                    cgroup_id: 0,
                }
            }
            On::CgroupId(id, order) => {
                info.cgroup = sys::bpf_iter_link_info__bindgen_ty_2 {
                    order: order.kernel(),
                    cgroup_fd: 0,
                    cgroup_id: id,
                }
            }
            On::Thread(tid) => info.task.tid = tid,
            On::Process(pid) => info.task.pid = pid,
            On::Pidfd(fd) => info.task.pid_fd = fd.as_raw_fd() as u32,
        }
        Some(info)
    }

    pub(crate) fn describe(&self) -> String {
        match self.on {
            On::Everything => String::new(),
            On::Map(fd) => format!(" over the map of descriptor {}", fd.as_raw_fd()),
            On::Cgroup(fd, order) => format!(
                " from the cgroup of descriptor {} ({order:?})",
                fd.as_raw_fd()
            ),
            On::CgroupId(id, order) => format!(" from cgroup {id} ({order:?})"),
            On::Thread(tid) => format!(" of thread {tid}"),
            On::Process(pid) => format!(" of process {pid}"),
            On::Pidfd(fd) => format!(" of the process of pidfd {}", fd.as_raw_fd()),
        }
    }
}

/// One run of an iterator: reading it runs the program over the objects
/// it walks, and gives what the program wrote (`bpf_seq_printf`,
/// `bpf_seq_write`). Each [`Link::iter`] starts a new run.
#[derive(Debug)]
pub struct IterReader {
    file: File,
    what: String,
}

impl IterReader {
    /// What the iterator is, as errors name it.
    pub fn describe(&self) -> &str {
        &self.what
    }
}

impl Read for IterReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl AsFd for IterReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Link {
    /// Starts a run of the iterator this link attaches (`BPF_ITER_CREATE`),
    /// to read through [`std::io::Read`].
    ///
    /// ```no_run
    /// use std::io::{BufRead, BufReader};
    /// # fn example(link: &ebpf_skeleton::Link) -> ebpf_skeleton::Result<()> {
    /// for line in BufReader::new(link.iter()?).lines() {
    ///     println!("{}", line.unwrap());
    /// }
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn iter(&self) -> Result<IterReader> {
        let what = format!(
            "the iterator of program `{}` ({})",
            self.program, self.target
        );
        let link = self.own_fd(&format!("starting {what}"))?.as_raw_fd();
        // SAFETY: a plain system call on an open link descriptor.
        let fd = check(unsafe { sys::bpf_iter_create(link) })
            .map_err(|source| Error::sys(format!("starting {what}"), source))?;
        // SAFETY: the kernel just returned this descriptor to us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(IterReader {
            file: File::from(fd),
            what,
        })
    }

    /// Runs the iterator once and reads all it writes.
    pub fn read_iter(&self) -> Result<Vec<u8>> {
        let mut reader = self.iter()?;
        let mut out = Vec::new();
        reader
            .read_to_end(&mut out)
            .map_err(|source| Error::sys(format!("reading {}", reader.what), source))?;
        Ok(out)
    }

    /// Runs the iterator once and reads all it writes, as text (bytes that
    /// are not UTF-8 become U+FFFD).
    pub fn read_iter_to_string(&self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.read_iter()?).into_owned())
    }
}
