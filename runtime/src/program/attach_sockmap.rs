//! Attaching `sk_msg` and `sk_skb` programs to a socket map ([`SockMap`] or
//! [`SockHash`]): they then run on the traffic of every socket in the map.
//!
//! On Linux 6.10 and later the attachment is a BPF link, detached when the
//! [`Link`] goes (or kept by a pin); on older kernels it is a
//! `BPF_PROG_ATTACH` attachment, which the `Link` detaches on drop
//! ([`Link::fd`] is `None` then). The map holds the program either way, so
//! dropping the map's last handle detaches it too.
//!
//! [`SockMap`]: crate::SockMap
//! [`SockHash`]: crate::SockHash

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::link::Link;
use crate::map::{duplicate_fd, SocketMap};
use crate::os::errno::check;
use crate::{AttachType, Program};

impl Program {
    /// Attaches an `sk_msg` program to `map`: it runs on each message a
    /// socket of the map sends (`sendmsg`, `write`) and may pass it, drop it
    /// or redirect it to another socket of the map (`bpf_msg_redirect_map`,
    /// `bpf_msg_redirect_hash`).
    ///
    /// ```no_run
    /// use ebpf_skeleton::{Program, SockMap};
    /// use std::io::Write;
    /// use std::net::TcpStream;
    ///
    /// # fn example(redirect: &Program, sockets: &SockMap, mut stream: TcpStream) -> ebpf_skeleton::Result<()> {
    /// let _link = redirect.attach_sk_msg(sockets)?;
    /// sockets.set(0, &stream)?;
    /// stream.write_all(b"hello").unwrap(); // goes where the program sends it
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn attach_sk_msg(&self, map: &impl SocketMap) -> Result<Link> {
        self.attach_socket_map(map, AttachType::SK_MSG_VERDICT)
    }

    /// Attaches an `sk_skb/stream_parser` program to `map`: it splits what
    /// the map's TCP sockets receive into messages (returning each one's
    /// length) for the stream verdict program.
    pub fn attach_sk_skb_stream_parser(&self, map: &impl SocketMap) -> Result<Link> {
        self.attach_socket_map(map, AttachType::SK_SKB_STREAM_PARSER)
    }

    /// Attaches an `sk_skb/stream_verdict` program to `map`: it decides on
    /// each message the stream parser found in what a socket of the map
    /// receives: pass, drop, or redirect (`bpf_sk_redirect_map`).
    pub fn attach_sk_skb_stream_verdict(&self, map: &impl SocketMap) -> Result<Link> {
        self.attach_socket_map(map, AttachType::SK_SKB_STREAM_VERDICT)
    }

    /// Attaches an `sk_skb/verdict` program to `map`: like a stream verdict
    /// program, on each packet a socket of the map receives, with no stream
    /// parser (TCP and UDP sockets; Linux 5.13).
    pub fn attach_sk_skb_verdict(&self, map: &impl SocketMap) -> Result<Link> {
        self.attach_socket_map(map, AttachType::SK_SKB_VERDICT)
    }

    fn attach_socket_map(&self, map: &impl SocketMap, hook: AttachType) -> Result<Link> {
        let map = map.socket_map();
        let target = format!("the {hook} hook of socket map `{}`", map.name());
        let fail = |source: io::Error, reason: &str| Error::Attach {
            program: self.name().to_owned(),
            target: target.clone(),
            source,
            reason: reason.to_owned(),
        };
        let program = self.fd()?.as_raw_fd();
        let map_fd = map.as_fd().as_raw_fd();
        // SAFETY: a plain system call on two open descriptors; NULL options
        // take the defaults.
        let link = unsafe { sys::bpf_link_create(program, map_fd, hook.0, std::ptr::null()) };
        match check(link) {
            Ok(fd) => {
                // SAFETY: the kernel just returned this descriptor to us.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                return Ok(Link::from_fd(fd, None, self.name().to_owned(), target));
            }
            // Kernels before 6.10 have no sockmap links: attach the old way.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(fail(e, "")),
        }
        let program_fd = self
            .fd()?
            .try_clone_to_owned()
            .map_err(|e| fail(e, "duplicating the program's descriptor"))?;
        let target_fd = duplicate_fd(map.as_fd(), map.name())?;
        // SAFETY: a plain system call on two open descriptors.
        let ret = unsafe { sys::bpf_prog_attach(program, map_fd, hook.0, 0) };
        check(ret).map_err(|e| {
            let too_old = (hook == AttachType::SK_SKB_VERDICT
                && e.raw_os_error() == Some(libc::EINVAL))
            .then(super::attach::sk_skb_verdict_missing)
            .flatten();
            fail(
                e,
                too_old.as_deref().unwrap_or(
                    "the kernel took neither a link nor BPF_PROG_ATTACH: is the program an sk_msg \
                     or sk_skb program of the matching kind?",
                ),
            )
        })?;
        Ok(Link::from_prog_attach(
            program_fd,
            target_fd,
            hook.0,
            self.name().to_owned(),
            target,
        ))
    }
}
