//! Where among an interface's tcx or netkit programs a new one goes, and
//! which programs a hook runs, in order (`BPF_PROG_QUERY`).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::os::errno::check;
use crate::{AttachType, Link, Program};

/// Where a program goes among the programs of a tcx or netkit hook, which
/// run in order, each passing the packet on (`TCX_NEXT`) or deciding.
/// Optionally, only if the hook is still at an expected revision (each
/// attach and detach adds one), so that two processes placing programs
/// cannot undo each other's order unknowingly.
///
/// ```no_run
/// use ebpf_skeleton::link::{Placement, TcxOptions};
/// # fn example(firewall: &ebpf_skeleton::Program, counter: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let fw = firewall.attach_tcx(2)?;
/// let _count = counter.attach_tcx_with(2, &TcxOptions::new().placement(Placement::before_link(&fw)))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement<'a> {
    anchor: Anchor<'a>,
    expected_revision: u64,
}

#[derive(Debug, Clone, Copy, Default)]
enum Anchor<'a> {
    #[default]
    Last,
    First,
    Before(Relative<'a>),
    After(Relative<'a>),
}

#[derive(Debug, Clone, Copy)]
enum Relative<'a> {
    Program(&'a Program),
    Link(&'a Link),
}

impl<'a> Placement<'a> {
    /// After every program the hook has (the default).
    pub fn last() -> Self {
        Self::default()
    }

    /// Before every program the hook has.
    pub fn first() -> Self {
        Self::at(Anchor::First)
    }

    /// Right before `program`, which the hook must run.
    pub fn before(program: &'a Program) -> Self {
        Self::at(Anchor::Before(Relative::Program(program)))
    }

    /// Right after `program`, which the hook must run.
    pub fn after(program: &'a Program) -> Self {
        Self::at(Anchor::After(Relative::Program(program)))
    }

    /// Right before the program of `link`, a link of this hook.
    pub fn before_link(link: &'a Link) -> Self {
        Self::at(Anchor::Before(Relative::Link(link)))
    }

    /// Right after the program of `link`, a link of this hook.
    pub fn after_link(link: &'a Link) -> Self {
        Self::at(Anchor::After(Relative::Link(link)))
    }

    /// Only if the hook is at `revision` ([`Attached::revision`]);
    /// otherwise the kernel refuses with `ESTALE`. 0 (the default) takes any.
    pub fn expected_revision(mut self, revision: u64) -> Self {
        self.expected_revision = revision;
        self
    }

    fn at(anchor: Anchor<'a>) -> Self {
        Placement {
            anchor,
            expected_revision: 0,
        }
    }

    /// The kernel's flags, the relative descriptor and the expected
    /// revision, for `BPF_LINK_CREATE`.
    pub(crate) fn to_kernel(self) -> Result<(u32, u32, u64)> {
        fn relative<'r>(r: Relative<'r>) -> Result<(u32, BorrowedFd<'r>)> {
            match r {
                Relative::Program(p) => Ok((0, p.fd()?)),
                Relative::Link(l) => Ok((sys::BPF_F_LINK, l.own_fd("placing a program")?)),
            }
        }
        let (flags, fd) = match self.anchor {
            Anchor::Last => (sys::BPF_F_AFTER, None),
            Anchor::First => (sys::BPF_F_BEFORE, None),
            Anchor::Before(r) => {
                let (kind, fd) = relative(r)?;
                (sys::BPF_F_BEFORE | kind, Some(fd.as_raw_fd() as u32))
            }
            Anchor::After(r) => {
                let (kind, fd) = relative(r)?;
                (sys::BPF_F_AFTER | kind, Some(fd.as_raw_fd() as u32))
            }
        };
        Ok((flags, fd.unwrap_or(0), self.expected_revision))
    }

    pub(crate) fn describe(&self) -> String {
        let of = |r: &Relative<'_>| match r {
            Relative::Program(p) => format!("program `{}`", p.name()),
            Relative::Link(l) => format!("the link of program `{}`", l.program()),
        };
        match &self.anchor {
            Anchor::Last => "last".to_owned(),
            Anchor::First => "first".to_owned(),
            Anchor::Before(r) => format!("before {}", of(r)),
            Anchor::After(r) => format!("after {}", of(r)),
        }
    }
}

/// How a tcx program attaches: where among the hook's programs, and to
/// which direction when the program's section does not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcxOptions<'a> {
    pub(crate) placement: Placement<'a>,
    pub(crate) hook: Option<AttachType>,
}

impl<'a> TcxOptions<'a> {
    /// Last among the hook's programs, on the direction of the program's
    /// section (`tcx/ingress` or `tcx/egress`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Where among the hook's programs.
    pub fn placement(mut self, placement: Placement<'a>) -> Self {
        self.placement = placement;
        self
    }

    /// On ingress (`BPF_TCX_INGRESS`), whatever the section says.
    pub fn ingress(mut self) -> Self {
        self.hook = Some(AttachType::TCX_INGRESS);
        self
    }

    /// On egress (`BPF_TCX_EGRESS`), whatever the section says.
    pub fn egress(mut self) -> Self {
        self.hook = Some(AttachType::TCX_EGRESS);
        self
    }
}

/// How a netkit program attaches: to the primary device or its peer, and
/// where among that side's programs.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetkitOptions<'a> {
    pub(crate) placement: Placement<'a>,
    pub(crate) peer: bool,
}

impl<'a> NetkitOptions<'a> {
    /// Last among the primary device's programs.
    pub fn primary() -> Self {
        Self::default()
    }

    /// Last among the peer device's programs (the interface given is still
    /// the primary's).
    pub fn peer() -> Self {
        NetkitOptions {
            peer: true,
            ..Self::default()
        }
    }

    /// Where among that side's programs.
    pub fn placement(mut self, placement: Placement<'a>) -> Self {
        self.placement = placement;
        self
    }
}

/// The programs a hook runs, in the order it runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attached {
    /// The hook's revision (tcx, netkit and, since Linux 6.16, cgroups;
    /// 0 where the kernel keeps none).
    pub revision: u64,
    /// How the hook's programs were attached: the kernel's `BPF_F_ALLOW_*`
    /// flags, for cgroups attached without links.
    pub attach_flags: u32,
    /// The programs, first to run first.
    pub programs: Vec<AttachedProgram>,
}

/// One program of a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachedProgram {
    /// The program's id.
    pub program_id: u32,
    /// The id of the link that attaches it, `None` when it was attached
    /// without one (or the kernel, before 6.6, does not say).
    pub link_id: Option<u32>,
}

/// The programs the interface `ifindex` runs at `hook` (tcx ingress or
/// egress, netkit primary or peer), in order.
pub fn query_interface(ifindex: u32, hook: AttachType) -> Result<Attached> {
    query(ifindex as i32, hook, 0).map_err(|source| {
        Error::sys(
            format!("querying the {hook} programs of interface {ifindex}"),
            source,
        )
    })
}

/// The programs attached to `cgroup` at `hook` (not those it inherits from
/// its ancestors), in the order they run.
pub fn query_cgroup(cgroup: impl AsFd, hook: AttachType) -> Result<Attached> {
    query(cgroup.as_fd().as_raw_fd(), hook, 0)
        .map_err(|source| Error::sys(format!("querying the {hook} programs of a cgroup"), source))
}

/// Asks twice: for the count, then for the ids.
fn query(target: i32, hook: AttachType, flags: u32) -> std::io::Result<Attached> {
    let mut opts = sys::bpf_prog_query_opts {
        sz: size_of::<sys::bpf_prog_query_opts>() as _,
        query_flags: flags,
        ..Default::default()
    };
    // SAFETY: with no id arrays the kernel writes only into `opts`.
    check(unsafe { sys::bpf_prog_query_opts(target, hook.0, &mut opts) })?;
    // Kernels before 6.6 know no link ids, and refuse a query that asks.
    let mut with_links = true;
    loop {
        // SAFETY: the union's members are both the count, a plain u32.
        let count = unsafe { opts.__bindgen_anon_1.count } as usize;
        let mut programs = vec![0u32; count];
        let mut links = vec![0u32; count];
        let mut again = sys::bpf_prog_query_opts {
            sz: size_of::<sys::bpf_prog_query_opts>() as _,
            query_flags: flags,
            prog_ids: programs.as_mut_ptr(),
            link_ids: if with_links {
                links.as_mut_ptr()
            } else {
                std::ptr::null_mut()
            },
            ..Default::default()
        };
        again.__bindgen_anon_1.count = count as u32;
        // SAFETY: the kernel writes at most `count` ids into each array,
        // which live across the call.
        let ret = check(unsafe { sys::bpf_prog_query_opts(target, hook.0, &mut again) });
        match ret {
            // A program came between the two calls: ask with more room.
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
                opts = again;
                continue;
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && with_links => {
                with_links = false;
                continue;
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        // SAFETY: as above.
        let written = (unsafe { again.__bindgen_anon_1.count } as usize).min(count);
        return Ok(Attached {
            revision: again.revision,
            attach_flags: again.attach_flags,
            programs: programs[..written]
                .iter()
                .zip(&links)
                .map(|(&program_id, &link)| AttachedProgram {
                    program_id,
                    link_id: (link != 0).then_some(link),
                })
                .collect(),
        });
    }
}
