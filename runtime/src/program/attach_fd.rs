//! Attaching a program held by its descriptor (loaded from instructions,
//! or opened by pin or id). libbpf's attach calls need libbpf's program, so
//! these make the kernel's attachments themselves: BPF links
//! (`BPF_LINK_CREATE`, a raw tracepoint's open), perf events for
//! tracepoints. Socket filters attach this way for every program.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use libbpf_sys as sys;

use super::attach::attach_hint;
use super::{AttachType, Program};
use crate::error::{Error, Result};
use crate::link::{Attachment, Link};
use crate::os::errno::check;
use crate::os::{perf_event, socket};

impl Program {
    /// Attaches a socket filter (`socket` programs, type
    /// [`SOCKET_FILTER`](super::ProgramType::SOCKET_FILTER)) to `socket`,
    /// in place of any filter it had: it runs on every packet the socket
    /// receives and returns how many of its bytes to keep (0 drops it).
    /// Dropping the link detaches the filter (`SO_DETACH_BPF`), whichever
    /// filter the socket has then.
    ///
    /// ```no_run
    /// use std::net::UdpSocket;
    /// # fn example(filter: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
    /// let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let _link = filter.attach_socket(&socket)?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn attach_socket(&self, socket: &impl AsFd) -> Result<Link> {
        let target = format!("socket {}", socket.as_fd().as_raw_fd());
        let fail = |source| self.fd_attach_error(&target, source, "");
        let own = socket.as_fd().try_clone_to_owned().map_err(fail)?;
        socket::attach_filter(own.as_fd(), self.fd()?).map_err(fail)?;
        Ok(Link::from_socket(own, self.name.clone(), target))
    }

    /// Attaches an `sk_reuseport` program to the reuseport group of `socket`
    /// (bound with `SO_REUSEPORT`), in place of any program the group had:
    /// it picks which socket of the group gets each packet or connection
    /// (`bpf_sk_select_reuseport` with a reuseport array). Dropping the link
    /// detaches the group's program (`SO_DETACH_REUSEPORT_BPF`), whichever
    /// it is then; the link keeps a descriptor of the socket open.
    ///
    /// ```no_run
    /// # fn example(select: &ebpf_skeleton::Program, socket: &std::net::UdpSocket) -> ebpf_skeleton::Result<()> {
    /// let _link = select.attach_reuseport(socket)?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn attach_reuseport(&self, socket: &impl AsFd) -> Result<Link> {
        let target = format!(
            "the reuseport group of socket {}",
            socket.as_fd().as_raw_fd()
        );
        let fail = |source| self.fd_attach_error(&target, source, "");
        let own = socket.as_fd().try_clone_to_owned().map_err(fail)?;
        socket::attach_reuseport(own.as_fd(), self.fd()?).map_err(fail)?;
        Ok(Link::from_attachment(
            Attachment::Socket {
                socket: own,
                reuseport: true,
            },
            self.name.clone(),
            target,
        ))
    }

    /// `BPF_LINK_CREATE` of this program to `target_fd` (an interface
    /// index, a cgroup) as `attach_type`, with the defaults.
    fn link_create_default(
        &self,
        target_fd: RawFd,
        attach_type: AttachType,
        target: String,
    ) -> Result<Link> {
        // (for tcx: after every program already there).
        let opts = sys::bpf_link_create_opts {
            sz: size_of::<sys::bpf_link_create_opts>() as _,
            ..Default::default()
        };
        self.link_create(target_fd, attach_type, &opts, target)
    }

    pub(super) fn xdp_by_fd(&self, ifindex: u32, target: String) -> Result<Link> {
        self.link_create_default(ifindex as RawFd, AttachType::XDP, target)
    }

    pub(super) fn tcx_by_fd(&self, ifindex: u32, target: String) -> Result<Link> {
        let hooks = [AttachType::TCX_INGRESS, AttachType::TCX_EGRESS];
        let hook = self.loaded_for(&target, &hooks)?;
        self.link_create_default(ifindex as RawFd, hook, target)
    }

    pub(super) fn cgroup_by_fd(&self, cgroup: RawFd, target: String) -> Result<Link> {
        let hook = self.loaded_for(&target, &[])?;
        self.link_create_default(cgroup, hook, target)
    }

    /// A perf event link, or on kernels without them (before 5.15) the
    /// event made to run the program.
    pub(super) fn perf_event_by_fd(&self, event: OwnedFd, target: String) -> Result<Link> {
        let prog = self.fd()?.as_raw_fd();
        // SAFETY: a plain system call on two open descriptors.
        let ret = unsafe {
            sys::bpf_link_create(
                prog,
                event.as_raw_fd(),
                sys::BPF_PERF_EVENT,
                std::ptr::null(),
            )
        };
        match check(ret) {
            Ok(fd) => {
                // SAFETY: the kernel just returned this descriptor to us.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                Ok(Link::from_fd(fd, Some(event), self.name.clone(), target))
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                perf_event::set_bpf(event.as_fd(), self.fd()?)
                    .map_err(|source| self.fd_attach_error(&target, source, ""))?;
                Ok(Link::from_event(event, self.name.clone(), target))
            }
            Err(source) => Err(self.fd_attach_error(&target, source, "")),
        }
    }

    pub(super) fn tracepoint_by_fd(
        &self,
        category: &str,
        name: &str,
        target: String,
    ) -> Result<Link> {
        let event = perf_event::open_tracepoint(category, name)
            .map_err(|source| self.fd_attach_error(&target, source, ""))?;
        self.perf_event_by_fd(event, target)
    }

    pub(super) fn raw_tracepoint_by_fd(&self, name: &CStr, target: String) -> Result<Link> {
        let prog = self.fd()?.as_raw_fd();
        // SAFETY: a valid C string and an open program descriptor.
        let ret = unsafe { sys::bpf_raw_tracepoint_open(name.as_ptr(), prog) };
        let fd = check(ret).map_err(|source| self.fd_attach_error(&target, source, ""))?;
        // SAFETY: the kernel just returned this descriptor to us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Link::from_fd(fd, None, self.name.clone(), target))
    }

    /// The hook the program was loaded for, which must be one of `hooks`
    /// (any, when empty): the kernel attaches a program where it was
    /// verified for.
    fn loaded_for(&self, target: &str, hooks: &[AttachType]) -> Result<AttachType> {
        let names: Vec<String> = hooks.iter().map(|h| format!("`{h}`")).collect();
        let wanted = if hooks.is_empty() {
            "the hook it is for".to_owned()
        } else {
            names.join(" or ")
        };
        match self.expected_attach_type() {
            Some(hook) if hooks.is_empty() || hooks.contains(&hook) => Ok(hook),
            Some(hook) => Err(self.fd_attach_error(
                target,
                io::Error::from_raw_os_error(libc::EINVAL),
                &format!("the program was loaded for `{hook}`, not {wanted}"),
            )),
            None if self.opened() => {
                let how = match hooks.first() {
                    Some(&AttachType::TCX_INGRESS) => {
                        "attach_tcx_with(ifindex, &TcxOptions::new().ingress()) or .egress()"
                    }
                    _ => "attach_cgroup_with(cgroup, &CgroupOptions::new().hook(...))",
                };
                Err(self.fd_attach_error(
                    target,
                    io::Error::from_raw_os_error(libc::EINVAL),
                    &format!(
                        "the program was opened by pin, id or descriptor, and the kernel does \
                         not say which hook it was loaded for: give {wanted} in the options \
                         ({how})"
                    ),
                ))
            }
            None => Err(self.fd_attach_error(
                target,
                io::Error::from_raw_os_error(libc::EINVAL),
                &format!(
                    "the program was loaded without an expected attach type: load it with \
                     {wanted} (ProgramBuilder::expected_attach_type)"
                ),
            )),
        }
    }

    fn fd_attach_error(&self, target: &str, source: io::Error, reason: &str) -> Error {
        let mut reason = reason.to_owned();
        if let Some(hint) = attach_hint(&self.section, target, &source) {
            if !reason.is_empty() {
                reason.push_str("; ");
            }
            reason.push_str(&hint);
        }
        Error::Attach {
            program: self.name.clone(),
            target: target.to_owned(),
            source,
            reason,
        }
    }
}
