//! What the kernel says about a link (`bpftool link show`, typed): its id,
//! type, program, and the part that depends on its type (the tracepoint,
//! the function, the interface, the cgroup, ...).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use libbpf_sys as sys;

use crate::libbpf::link_info;
use crate::os::errno::check;
use crate::program::kernel_enum;
use crate::AttachType;

/// The type of a link, the kernel's `BPF_LINK_TYPE_*` number. Types newer
/// than this crate stay representable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

kernel_enum! {
    LinkType, "BPF_LINK_TYPE_",
    UNSPEC = 0, "unspec";
    RAW_TRACEPOINT = 1, "raw_tracepoint";
    TRACING = 2, "tracing";
    CGROUP = 3, "cgroup";
    ITER = 4, "iter";
    NETNS = 5, "netns";
    XDP = 6, "xdp";
    PERF_EVENT = 7, "perf_event";
    KPROBE_MULTI = 8, "kprobe_multi";
    STRUCT_OPS = 9, "struct_ops";
    NETFILTER = 10, "netfilter";
    TCX = 11, "tcx";
    UPROBE_MULTI = 12, "uprobe_multi";
    NETKIT = 13, "netkit";
    SOCKMAP = 14, "sockmap";
}

/// A link as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkInfo {
    /// The kernel's id for the link (as `bpftool link` shows it).
    pub id: u32,
    /// Its type.
    pub link_type: LinkType,
    /// The id of the program it attaches (0 for a struct_ops link).
    pub program_id: u32,
    /// What it attaches the program to, by its type.
    pub detail: LinkDetail,
}

/// The part of a link's info that depends on its type. The kernel fills
/// what it knows: older kernels leave some of it zero or empty. A link whose
/// hook is gone ([`crate::Link::detach`], an interface deleted) shows zeros
/// where its target was.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkDetail {
    /// A raw tracepoint.
    RawTracepoint {
        /// Its name.
        name: String,
        /// The cookie given at attach.
        cookie: u64,
    },
    /// A program attached through a trampoline (fentry, fexit, fmod_ret,
    /// lsm, tp_btf, freplace).
    Tracing {
        /// The attach type.
        attach_type: AttachType,
        /// The program's id for freplace, otherwise the BTF object's id.
        target_object_id: u32,
        /// The BTF type id of the function in that object.
        target_btf_id: u32,
        /// The cookie given at attach.
        cookie: u64,
    },
    /// A cgroup.
    Cgroup {
        /// The cgroup's id (the inode number of its directory).
        cgroup_id: u64,
        /// The attach type.
        attach_type: AttachType,
    },
    /// A BPF iterator.
    Iter {
        /// The iterator's target, e.g. `task`, `bpf_map_elem`.
        target: String,
        /// The map a map iterator walks (0 for other iterators).
        map_id: u32,
        /// The cgroup a cgroup iterator starts from (0 for others).
        cgroup_id: u64,
        /// The order a cgroup iterator walks in (the kernel's
        /// `bpf_cgroup_iter_order`).
        cgroup_order: u32,
        /// The thread a task iterator is limited to (0 for all).
        tid: u32,
        /// The process a task iterator is limited to (0 for all).
        pid: u32,
    },
    /// A network namespace (sk_lookup, flow_dissector).
    Netns {
        /// The namespace's inode number (as `/proc/PID/ns/net` shows it).
        netns_inode: u32,
        /// The attach type.
        attach_type: AttachType,
    },
    /// An interface's XDP hook.
    Xdp {
        /// The interface's index.
        ifindex: u32,
    },
    /// A perf event: a kprobe, uprobe, tracepoint or hardware or software
    /// event.
    PerfEvent(PerfEventDetail),
    /// A set of kprobes (kprobe_multi, kretprobe_multi, kprobe.session).
    KprobeMulti {
        /// How many functions.
        count: u32,
        /// The kernel's `BPF_F_KPROBE_MULTI_*` flags (1: return probes).
        flags: u32,
        /// Runs missed because the probe was already running on a CPU.
        missed: u64,
    },
    /// A struct_ops registration.
    StructOps {
        /// The struct_ops map's id.
        map_id: u32,
    },
    /// A netfilter hook.
    Netfilter {
        /// The protocol family (`NFPROTO_IPV4` is 2, `NFPROTO_IPV6` 10).
        protocol_family: u32,
        /// The hook (`NF_INET_LOCAL_OUT` is 3, ...).
        hook: u32,
        /// Its priority among the hook's functions.
        priority: i32,
        /// The flags given at attach.
        flags: u32,
    },
    /// An interface's tcx hook.
    Tcx {
        /// The interface's index.
        ifindex: u32,
        /// `tcx_ingress` or `tcx_egress`.
        attach_type: AttachType,
    },
    /// A set of uprobes (uprobe_multi).
    UprobeMulti {
        /// The binary probed.
        path: String,
        /// How many places.
        count: u32,
        /// The kernel's `BPF_F_UPROBE_MULTI_*` flags (1: return probes).
        flags: u32,
        /// The process it fires in (0 for all).
        pid: u32,
    },
    /// A netkit device.
    Netkit {
        /// The interface's index.
        ifindex: u32,
        /// `netkit_primary` or `netkit_peer`.
        attach_type: AttachType,
    },
    /// A socket map (sk_msg, sk_skb).
    Sockmap {
        /// The map's id.
        map_id: u32,
        /// The attach type.
        attach_type: AttachType,
    },
    /// A type this crate does not describe further.
    Other,
}

/// What a perf event link is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PerfEventDetail {
    /// A uprobe or uretprobe.
    Uprobe {
        /// Whether it fires at the function's return.
        retprobe: bool,
        /// The binary probed.
        path: String,
        /// The offset in the file.
        offset: u32,
        /// The cookie given at attach.
        cookie: u64,
        /// The offset of its reference counter (0 for none).
        ref_ctr_offset: u64,
    },
    /// A kprobe or kretprobe.
    Kprobe {
        /// Whether it fires at the function's return.
        retprobe: bool,
        /// The kernel function.
        function: String,
        /// The offset into the function.
        offset: u32,
        /// The probed address (0 when this process may not see addresses).
        address: u64,
        /// Runs missed.
        missed: u64,
        /// The cookie given at attach.
        cookie: u64,
    },
    /// A tracepoint.
    Tracepoint {
        /// Its name, without its category (`sys_enter_getppid`).
        name: String,
        /// The cookie given at attach.
        cookie: u64,
    },
    /// A hardware or software event (`perf_event_attr`'s type and config).
    Event {
        /// `PERF_TYPE_*`.
        event_type: u32,
        /// `PERF_COUNT_*`.
        config: u64,
        /// The cookie given at attach.
        cookie: u64,
    },
    /// A perf event the kernel does not describe (older kernels).
    Unknown,
}

/// How long a name or path buffer handed to the kernel is.
const NAME_LEN: usize = 4096;

/// The info of the link behind `fd`, names included.
pub(crate) fn info_of(fd: BorrowedFd<'_>) -> io::Result<LinkInfo> {
    let first = link_info(fd)?;
    let link_type = LinkType(first.type_);
    // SAFETY (every union read below): the kernel filled the union member
    // of the link's type (and zeroed the rest); each member is plain
    // integers, for which any bits are valid.
    let u = &first.__bindgen_anon_1;
    let detail = match link_type {
        LinkType::RAW_TRACEPOINT => {
            let (info, name) = with_name(fd, |i, buf| {
                // SAFETY: see above; only this member is written.
                let tp = unsafe { &mut i.__bindgen_anon_1.raw_tracepoint };
                tp.tp_name = buf.as_mut_ptr() as u64;
                tp.tp_name_len = buf.len() as u32;
            })?;
            LinkDetail::RawTracepoint {
                name,
                // SAFETY: see above.
                cookie: unsafe { info.__bindgen_anon_1.raw_tracepoint.cookie },
            }
        }
        LinkType::TRACING => {
            // SAFETY: see above.
            let t = unsafe { u.tracing };
            LinkDetail::Tracing {
                attach_type: AttachType(t.attach_type),
                target_object_id: t.target_obj_id,
                target_btf_id: t.target_btf_id,
                cookie: t.cookie,
            }
        }
        LinkType::CGROUP => {
            // SAFETY: see above.
            let c = unsafe { u.cgroup };
            LinkDetail::Cgroup {
                cgroup_id: c.cgroup_id,
                attach_type: AttachType(c.attach_type),
            }
        }
        LinkType::ITER => {
            let (info, target) = with_name(fd, |i, buf| {
                // SAFETY: see above; only this member is written.
                let it = unsafe { &mut i.__bindgen_anon_1.iter };
                it.target_name = buf.as_mut_ptr() as u64;
                it.target_name_len = buf.len() as u32;
            })?;
            // SAFETY: see above.
            let it = unsafe { info.__bindgen_anon_1.iter };
            // SAFETY: see above (the inner unions are integers too).
            let (map_id, cgroup, task) = unsafe {
                (
                    it.__bindgen_anon_1.map.map_id,
                    it.__bindgen_anon_2.cgroup,
                    it.__bindgen_anon_2.task,
                )
            };
            // The second union holds a cgroup's fields or a task's, by target.
            let is_cgroup = target == "cgroup";
            let is_task = target.starts_with("task");
            LinkDetail::Iter {
                map_id,
                cgroup_id: if is_cgroup { cgroup.cgroup_id } else { 0 },
                cgroup_order: if is_cgroup { cgroup.order } else { 0 },
                tid: if is_task { task.tid } else { 0 },
                pid: if is_task { task.pid } else { 0 },
                target,
            }
        }
        LinkType::NETNS => {
            // SAFETY: see above.
            let n = unsafe { u.netns };
            LinkDetail::Netns {
                netns_inode: n.netns_ino,
                attach_type: AttachType(n.attach_type),
            }
        }
        LinkType::XDP => LinkDetail::Xdp {
            // SAFETY: see above.
            ifindex: unsafe { u.xdp.ifindex },
        },
        LinkType::PERF_EVENT => LinkDetail::PerfEvent(perf_event_detail(fd, &first)?),
        LinkType::KPROBE_MULTI => {
            // SAFETY: see above.
            let k = unsafe { u.kprobe_multi };
            LinkDetail::KprobeMulti {
                count: k.count,
                flags: k.flags,
                missed: k.missed,
            }
        }
        LinkType::STRUCT_OPS => LinkDetail::StructOps {
            // SAFETY: see above.
            map_id: unsafe { u.struct_ops.map_id },
        },
        LinkType::NETFILTER => {
            // SAFETY: see above.
            let n = unsafe { u.netfilter };
            LinkDetail::Netfilter {
                protocol_family: n.pf,
                hook: n.hooknum,
                priority: n.priority,
                flags: n.flags,
            }
        }
        LinkType::TCX => {
            // SAFETY: see above.
            let t = unsafe { u.tcx };
            LinkDetail::Tcx {
                ifindex: t.ifindex,
                attach_type: AttachType(t.attach_type),
            }
        }
        LinkType::UPROBE_MULTI => {
            let (info, path) = with_name(fd, |i, buf| {
                // SAFETY: see above; only this member is written.
                let up = unsafe { &mut i.__bindgen_anon_1.uprobe_multi };
                up.path = buf.as_mut_ptr() as u64;
                up.path_size = buf.len() as u32;
            })?;
            // SAFETY: see above.
            let up = unsafe { info.__bindgen_anon_1.uprobe_multi };
            LinkDetail::UprobeMulti {
                path,
                count: up.count,
                flags: up.flags,
                pid: up.pid,
            }
        }
        LinkType::NETKIT => {
            // SAFETY: see above.
            let n = unsafe { u.netkit };
            LinkDetail::Netkit {
                ifindex: n.ifindex,
                attach_type: AttachType(n.attach_type),
            }
        }
        LinkType::SOCKMAP => {
            // SAFETY: see above.
            let s = unsafe { u.sockmap };
            LinkDetail::Sockmap {
                map_id: s.map_id,
                attach_type: AttachType(s.attach_type),
            }
        }
        _ => LinkDetail::Other,
    };
    Ok(LinkInfo {
        id: first.id,
        link_type,
        program_id: first.prog_id,
        detail,
    })
}

/// A perf event link's detail: which kind of event, then its name.
fn perf_event_detail(
    fd: BorrowedFd<'_>,
    first: &sys::bpf_link_info,
) -> io::Result<PerfEventDetail> {
    // SAFETY: the kernel filled the perf_event member (see `info_of`).
    let kind = unsafe { first.__bindgen_anon_1.perf_event.type_ };
    // Each kind keeps its name buffer in its own union member.
    let named = |set: fn(&mut sys::bpf_link_info, &mut [u8])| with_name(fd, set);
    Ok(match kind {
        sys::BPF_PERF_EVENT_UPROBE | sys::BPF_PERF_EVENT_URETPROBE => {
            let (info, path) = named(|i, buf| {
                // SAFETY: plain integers; only this member is written.
                let up = unsafe { &mut i.__bindgen_anon_1.perf_event.__bindgen_anon_1.uprobe };
                up.file_name = buf.as_mut_ptr() as u64;
                up.name_len = buf.len() as u32;
            })?;
            // SAFETY: as in `info_of`.
            let up = unsafe { info.__bindgen_anon_1.perf_event.__bindgen_anon_1.uprobe };
            PerfEventDetail::Uprobe {
                retprobe: kind == sys::BPF_PERF_EVENT_URETPROBE,
                path,
                offset: up.offset,
                cookie: up.cookie,
                ref_ctr_offset: up.ref_ctr_offset,
            }
        }
        sys::BPF_PERF_EVENT_KPROBE | sys::BPF_PERF_EVENT_KRETPROBE => {
            let (info, function) = named(|i, buf| {
                // SAFETY: plain integers; only this member is written.
                let k = unsafe { &mut i.__bindgen_anon_1.perf_event.__bindgen_anon_1.kprobe };
                k.func_name = buf.as_mut_ptr() as u64;
                k.name_len = buf.len() as u32;
            })?;
            // SAFETY: as in `info_of`.
            let k = unsafe { info.__bindgen_anon_1.perf_event.__bindgen_anon_1.kprobe };
            PerfEventDetail::Kprobe {
                retprobe: kind == sys::BPF_PERF_EVENT_KRETPROBE,
                function,
                offset: k.offset,
                address: k.addr,
                missed: k.missed,
                cookie: k.cookie,
            }
        }
        sys::BPF_PERF_EVENT_TRACEPOINT => {
            let (info, name) = named(|i, buf| {
                // SAFETY: plain integers; only this member is written.
                let tp = unsafe { &mut i.__bindgen_anon_1.perf_event.__bindgen_anon_1.tracepoint };
                tp.tp_name = buf.as_mut_ptr() as u64;
                tp.name_len = buf.len() as u32;
            })?;
            PerfEventDetail::Tracepoint {
                name,
                // SAFETY: as in `info_of`.
                cookie: unsafe {
                    info.__bindgen_anon_1
                        .perf_event
                        .__bindgen_anon_1
                        .tracepoint
                        .cookie
                },
            }
        }
        sys::BPF_PERF_EVENT_EVENT => {
            // SAFETY: as in `info_of`.
            let e = unsafe { first.__bindgen_anon_1.perf_event.__bindgen_anon_1.event };
            PerfEventDetail::Event {
                event_type: e.type_,
                config: e.config,
                cookie: e.cookie,
            }
        }
        _ => PerfEventDetail::Unknown,
    })
}

/// Asks for the link's info again with a name buffer, which `set` puts in
/// the union member of the link's type; returns the info and the name.
fn with_name(
    fd: BorrowedFd<'_>,
    set: impl FnOnce(&mut sys::bpf_link_info, &mut [u8]),
) -> io::Result<(sys::bpf_link_info, String)> {
    let mut buf = vec![0u8; NAME_LEN];
    let mut info = sys::bpf_link_info::default();
    set(&mut info, &mut buf);
    let mut len = size_of::<sys::bpf_link_info>() as u32;
    // SAFETY: `info` is writable for `len` bytes, and the buffer `set` put
    // in it is writable for the length it gave and lives across the call.
    check(unsafe { sys::bpf_link_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) })?;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok((info, String::from_utf8_lossy(&buf[..end]).into_owned()))
}

impl fmt::Display for LinkInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "link {} ({}) of program {}",
            self.id, self.link_type, self.program_id
        )
    }
}
