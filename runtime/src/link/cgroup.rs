//! How a cgroup program attaches: as a link, or with `BPF_PROG_ATTACH` and
//! one of its three modes, which decide what the cgroup's descendants may
//! attach.

use crate::AttachType;
#[cfg(doc)]
use crate::Program;

/// How a cgroup attachment shares its hook with others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupMode {
    /// A BPF link (Linux 5.7): it runs with every other program of the hook
    /// and of the cgroup's ancestors (like [`CgroupMode::Multi`]), can be
    /// pinned and updated, and detaches when dropped.
    #[default]
    BpfLink,
    /// `BPF_PROG_ATTACH` without flags: the cgroup's only program for the
    /// hook, and descendants may attach none of their own.
    Exclusive,
    /// `BPF_F_ALLOW_OVERRIDE`: the cgroup's only program for the hook; a
    /// descendant that attaches its own runs that one instead.
    Override,
    /// `BPF_F_ALLOW_MULTI`: one of a list; the programs of the cgroup and
    /// of its ancestors all run, ancestors' last.
    Multi,
}

/// How [`Program::attach_cgroup_with`] attaches: in which mode, and to
/// which hook (when the program's section does not say, or says another).
/// A program attached in any mode is swapped for another atomically with
/// [`Link::update_program`](crate::Link::update_program).
///
/// ```no_run
/// use ebpf_skeleton::link::{CgroupMode, CgroupOptions};
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/my-service").unwrap();
/// let _attached = program.attach_cgroup_with(&cgroup, &CgroupOptions::new().mode(CgroupMode::Multi))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupOptions {
    pub(crate) mode: CgroupMode,
    pub(crate) hook: Option<AttachType>,
}

impl CgroupOptions {
    /// A link, on the hook of the program's section.
    pub fn new() -> Self {
        Self::default()
    }

    /// The attach mode.
    pub fn mode(mut self, mode: CgroupMode) -> Self {
        self.mode = mode;
        self
    }

    /// The hook (`AttachType::CGROUP_INET4_CONNECT`, ...), for a program
    /// whose section does not name it or held by its descriptor alone.
    pub fn hook(mut self, hook: AttachType) -> Self {
        self.hook = Some(hook);
        self
    }
}
