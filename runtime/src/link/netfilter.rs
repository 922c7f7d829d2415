//! Where a netfilter program hooks in (Linux 6.4): the protocol family, the
//! hook, and its priority among the hook's functions (nftables chains,
//! conntrack, ...).

/// The protocol family of a netfilter hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetfilterFamily {
    /// IPv4 (`NFPROTO_IPV4`).
    Ipv4,
    /// IPv6 (`NFPROTO_IPV6`).
    Ipv6,
}

/// A netfilter hook of the IP stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetfilterHook {
    /// Packets arriving, before routing (`NF_INET_PRE_ROUTING`).
    PreRouting,
    /// Packets for this host (`NF_INET_LOCAL_IN`).
    LocalIn,
    /// Packets routed through this host (`NF_INET_FORWARD`).
    Forward,
    /// Packets this host sends (`NF_INET_LOCAL_OUT`).
    LocalOut,
    /// Packets leaving, after routing (`NF_INET_POST_ROUTING`).
    PostRouting,
}

/// Where [`Program::attach_netfilter`](crate::Program::attach_netfilter)
/// hooks a `netfilter` program in. The program returns `NF_ACCEPT` (1) or
/// `NF_DROP` (0) for each packet.
///
/// ```no_run
/// use ebpf_skeleton::link::{NetfilterFamily, NetfilterHook, NetfilterOptions};
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let hook = NetfilterOptions::new(NetfilterFamily::Ipv4, NetfilterHook::LocalOut).priority(-128);
/// let _link = program.attach_netfilter(&hook)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetfilterOptions {
    pub(crate) family: NetfilterFamily,
    pub(crate) hook: NetfilterHook,
    pub(crate) priority: i32,
    pub(crate) defrag: bool,
}

impl NetfilterOptions {
    /// At `hook` of `family`, priority 1 (right after conntrack's usual
    /// place).
    pub fn new(family: NetfilterFamily, hook: NetfilterHook) -> Self {
        NetfilterOptions {
            family,
            hook,
            priority: 1,
            defrag: false,
        }
    }

    /// The priority among the hook's functions: lower runs first. The
    /// kernel refuses the two extremes (`i32::MIN`, `i32::MAX`), and two
    /// programs at one priority.
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Reassembles fragments before the program sees them
    /// (`BPF_F_NETFILTER_IP_DEFRAG`, Linux 6.6).
    pub fn defrag(mut self) -> Self {
        self.defrag = true;
        self
    }

    pub(crate) fn kernel(&self) -> (u32, u32, i32, u32) {
        let pf = match self.family {
            NetfilterFamily::Ipv4 => 2,
            NetfilterFamily::Ipv6 => 10,
        };
        let hook = match self.hook {
            NetfilterHook::PreRouting => 0,
            NetfilterHook::LocalIn => 1,
            NetfilterHook::Forward => 2,
            NetfilterHook::LocalOut => 3,
            NetfilterHook::PostRouting => 4,
        };
        (pf, hook, self.priority, u32::from(self.defrag))
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "netfilter {:?} {:?}, priority {}",
            self.family, self.hook, self.priority
        )
    }
}
