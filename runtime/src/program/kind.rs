//! Program types (`BPF_PROG_TYPE_*`) by name.

use std::fmt;

/// The type of a program, the kernel's `BPF_PROG_TYPE_*` number. Types
/// newer than this crate stay representable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgramType(pub u32);

macro_rules! program_types {
    ($($name:ident = $value:expr, $text:literal;)*) => {
        impl ProgramType {
            $(
                #[doc = concat!("`BPF_PROG_TYPE_", stringify!($name), "`")]
                pub const $name: ProgramType = ProgramType($value);
            )*

            /// The type's name as bpftool spells it (`kprobe`, `xdp`, ...),
            /// or `None` for a type this crate does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

program_types! {
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

impl fmt::Debug for ProgramType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "ProgramType({name})"),
            None => write!(f, "ProgramType({})", self.0),
        }
    }
}

impl fmt::Display for ProgramType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "program type {}", self.0),
        }
    }
}
