//! Program types (`BPF_PROG_TYPE_*`) and attach types (`BPF_*` of
//! `enum bpf_attach_type`) by name.

use std::fmt;

/// The type of a program, the kernel's `BPF_PROG_TYPE_*` number. Types
/// newer than this crate stay representable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgramType(pub u32);

/// The hook a program is loaded for (`expected_attach_type`) or attached
/// to, the kernel's `enum bpf_attach_type` number. Types newer than this
/// crate stay representable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttachType(pub u32);

/// Consts and `name()` for a kernel enum newtype: `$prefix` is what the
/// kernel's names start with, for the docs.
macro_rules! kernel_enum {
    ($type:ident, $prefix:literal, $($name:ident = $value:expr, $text:literal;)*) => {
        impl $type {
            $(
                #[doc = concat!("`", $prefix, stringify!($name), "`")]
                pub const $name: $type = $type($value);
            )*

            /// The name as bpftool spells it (`kprobe`, `xdp`, ...), or
            /// `None` for a value this crate does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => write!(f, "{}({name})", stringify!($type)),
                    None => write!(f, "{}({})", stringify!($type), self.0),
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{} {}", stringify!($type), self.0),
                }
            }
        }
    };
}

// Link types are a kernel enum of the same shape (`crate::link::LinkType`).
pub(crate) use kernel_enum;

kernel_enum! {
    ProgramType, "BPF_PROG_TYPE_",
    UNSPEC = 0, "unspec";
    SOCKET_FILTER = 1, "socket_filter";
    KPROBE = 2, "kprobe";
    SCHED_CLS = 3, "sched_cls";
    SCHED_ACT = 4, "sched_act";
    TRACEPOINT = 5, "tracepoint";
    XDP = 6, "xdp";
    PERF_EVENT = 7, "perf_event";
    CGROUP_SKB = 8, "cgroup_skb";
    CGROUP_SOCK = 9, "cgroup_sock";
    LWT_IN = 10, "lwt_in";
    LWT_OUT = 11, "lwt_out";
    LWT_XMIT = 12, "lwt_xmit";
    SOCK_OPS = 13, "sock_ops";
    SK_SKB = 14, "sk_skb";
    CGROUP_DEVICE = 15, "cgroup_device";
    SK_MSG = 16, "sk_msg";
    RAW_TRACEPOINT = 17, "raw_tracepoint";
    CGROUP_SOCK_ADDR = 18, "cgroup_sock_addr";
    LWT_SEG6LOCAL = 19, "lwt_seg6local";
    LIRC_MODE2 = 20, "lirc_mode2";
    SK_REUSEPORT = 21, "sk_reuseport";
    FLOW_DISSECTOR = 22, "flow_dissector";
    CGROUP_SYSCTL = 23, "cgroup_sysctl";
    RAW_TRACEPOINT_WRITABLE = 24, "raw_tracepoint_writable";
    CGROUP_SOCKOPT = 25, "cgroup_sockopt";
    TRACING = 26, "tracing";
    STRUCT_OPS = 27, "struct_ops";
    EXT = 28, "ext";
    LSM = 29, "lsm";
    SK_LOOKUP = 30, "sk_lookup";
    SYSCALL = 31, "syscall";
    NETFILTER = 32, "netfilter";
}

kernel_enum! {
    AttachType, "BPF_",
    CGROUP_INET_INGRESS = 0, "cgroup_inet_ingress";
    CGROUP_INET_EGRESS = 1, "cgroup_inet_egress";
    CGROUP_INET_SOCK_CREATE = 2, "cgroup_inet_sock_create";
    CGROUP_SOCK_OPS = 3, "cgroup_sock_ops";
    SK_SKB_STREAM_PARSER = 4, "sk_skb_stream_parser";
    SK_SKB_STREAM_VERDICT = 5, "sk_skb_stream_verdict";
    CGROUP_DEVICE = 6, "cgroup_device";
    SK_MSG_VERDICT = 7, "sk_msg_verdict";
    CGROUP_INET4_BIND = 8, "cgroup_inet4_bind";
    CGROUP_INET6_BIND = 9, "cgroup_inet6_bind";
    CGROUP_INET4_CONNECT = 10, "cgroup_inet4_connect";
    CGROUP_INET6_CONNECT = 11, "cgroup_inet6_connect";
    CGROUP_INET4_POST_BIND = 12, "cgroup_inet4_post_bind";
    CGROUP_INET6_POST_BIND = 13, "cgroup_inet6_post_bind";
    CGROUP_UDP4_SENDMSG = 14, "cgroup_udp4_sendmsg";
    CGROUP_UDP6_SENDMSG = 15, "cgroup_udp6_sendmsg";
    LIRC_MODE2 = 16, "lirc_mode2";
    FLOW_DISSECTOR = 17, "flow_dissector";
    CGROUP_SYSCTL = 18, "cgroup_sysctl";
    CGROUP_UDP4_RECVMSG = 19, "cgroup_udp4_recvmsg";
    CGROUP_UDP6_RECVMSG = 20, "cgroup_udp6_recvmsg";
    CGROUP_GETSOCKOPT = 21, "cgroup_getsockopt";
    CGROUP_SETSOCKOPT = 22, "cgroup_setsockopt";
    TRACE_RAW_TP = 23, "trace_raw_tp";
    TRACE_FENTRY = 24, "trace_fentry";
    TRACE_FEXIT = 25, "trace_fexit";
    MODIFY_RETURN = 26, "modify_return";
    LSM_MAC = 27, "lsm_mac";
    TRACE_ITER = 28, "trace_iter";
    CGROUP_INET4_GETPEERNAME = 29, "cgroup_inet4_getpeername";
    CGROUP_INET6_GETPEERNAME = 30, "cgroup_inet6_getpeername";
    CGROUP_INET4_GETSOCKNAME = 31, "cgroup_inet4_getsockname";
    CGROUP_INET6_GETSOCKNAME = 32, "cgroup_inet6_getsockname";
    XDP_DEVMAP = 33, "xdp_devmap";
    CGROUP_INET_SOCK_RELEASE = 34, "cgroup_inet_sock_release";
    XDP_CPUMAP = 35, "xdp_cpumap";
    SK_LOOKUP = 36, "sk_lookup";
    XDP = 37, "xdp";
    SK_SKB_VERDICT = 38, "sk_skb_verdict";
    SK_REUSEPORT_SELECT = 39, "sk_reuseport_select";
    SK_REUSEPORT_SELECT_OR_MIGRATE = 40, "sk_reuseport_select_or_migrate";
    PERF_EVENT = 41, "perf_event";
    TRACE_KPROBE_MULTI = 42, "trace_kprobe_multi";
    LSM_CGROUP = 43, "lsm_cgroup";
    STRUCT_OPS = 44, "struct_ops";
    NETFILTER = 45, "netfilter";
    TCX_INGRESS = 46, "tcx_ingress";
    TCX_EGRESS = 47, "tcx_egress";
    TRACE_UPROBE_MULTI = 48, "trace_uprobe_multi";
    CGROUP_UNIX_CONNECT = 49, "cgroup_unix_connect";
    CGROUP_UNIX_SENDMSG = 50, "cgroup_unix_sendmsg";
    CGROUP_UNIX_RECVMSG = 51, "cgroup_unix_recvmsg";
    CGROUP_UNIX_GETPEERNAME = 52, "cgroup_unix_getpeername";
    CGROUP_UNIX_GETSOCKNAME = 53, "cgroup_unix_getsockname";
    NETKIT_PRIMARY = 54, "netkit_primary";
    NETKIT_PEER = 55, "netkit_peer";
    TRACE_KPROBE_SESSION = 56, "trace_kprobe_session";
    TRACE_UPROBE_SESSION = 57, "trace_uprobe_session";
}
