//! How an XDP program attaches to an interface, and which programs an
//! interface runs in which mode.

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::os::errno::check;

/// Where in the receive path an XDP program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XdpMode {
    /// Driver mode where the driver has it, generic mode otherwise (the
    /// kernel picks).
    #[default]
    Any,
    /// Generic (SKB) mode: after the kernel built its socket buffer, on any
    /// interface (`XDP_FLAGS_SKB_MODE`).
    Generic,
    /// Native (driver) mode: in the driver, before any allocation; only
    /// drivers that implement XDP (`XDP_FLAGS_DRV_MODE`).
    Driver,
    /// Offloaded to the NIC, for a program loaded for that device
    /// (`XDP_FLAGS_HW_MODE`).
    Offload,
}

impl XdpMode {
    pub(crate) fn flags(self) -> u32 {
        match self {
            XdpMode::Any => 0,
            XdpMode::Generic => sys::XDP_FLAGS_SKB_MODE,
            XdpMode::Driver => sys::XDP_FLAGS_DRV_MODE,
            XdpMode::Offload => sys::XDP_FLAGS_HW_MODE,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            XdpMode::Any => "XDP",
            XdpMode::Generic => "generic XDP",
            XdpMode::Driver => "driver XDP",
            XdpMode::Offload => "offloaded XDP",
        }
    }
}

/// How [`Program::attach_xdp_with`](crate::Program::attach_xdp_with)
/// attaches. The link it gives can be handed another program atomically
/// ([`Link::update_program`](crate::Link::update_program)): no packet goes
/// unprocessed in between.
///
/// ```no_run
/// use ebpf_skeleton::link::{XdpMode, XdpOptions};
/// # fn example(program: &ebpf_skeleton::Program, ifindex: u32) -> ebpf_skeleton::Result<()> {
/// let _link = program.attach_xdp_with(ifindex, &XdpOptions::new().mode(XdpMode::Driver))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XdpOptions {
    pub(crate) mode: XdpMode,
}

impl XdpOptions {
    /// The kernel's choice of mode.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches in `mode`; an interface that cannot run it refuses
    /// (`EOPNOTSUPP` for driver mode on an interface whose driver has no
    /// XDP, `EINVAL` for offload of a program not loaded for the device).
    pub fn mode(mut self, mode: XdpMode) -> Self {
        self.mode = mode;
        self
    }
}

/// The XDP programs an interface runs, by mode (0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct XdpQuery {
    /// The mode programs are attached in: [`XdpMode::Any`] when there are
    /// programs in several modes, `None` when there is none.
    pub mode: Option<XdpMode>,
    /// The program of generic mode.
    pub generic_program_id: u32,
    /// The program of driver mode.
    pub driver_program_id: u32,
    /// The program offloaded to the NIC.
    pub offload_program_id: u32,
}

/// Which XDP programs the interface `ifindex` runs, in which mode.
pub fn query_xdp(ifindex: u32) -> Result<XdpQuery> {
    let mut opts = sys::bpf_xdp_query_opts {
        sz: size_of::<sys::bpf_xdp_query_opts>() as _,
        ..Default::default()
    };
    // SAFETY: a netlink query writing only into `opts`, which outlives it.
    check(unsafe { sys::bpf_xdp_query(ifindex as i32, 0, &mut opts) }).map_err(|source| {
        Error::sys(
            format!("querying the XDP programs of interface {ifindex}"),
            source,
        )
    })?;
    let mode = match opts.attach_mode as u32 {
        sys::XDP_ATTACHED_NONE => None,
        sys::XDP_ATTACHED_SKB => Some(XdpMode::Generic),
        sys::XDP_ATTACHED_DRV => Some(XdpMode::Driver),
        sys::XDP_ATTACHED_HW => Some(XdpMode::Offload),
        _ => Some(XdpMode::Any),
    };
    Ok(XdpQuery {
        mode,
        generic_program_id: opts.skb_prog_id,
        driver_program_id: opts.drv_prog_id,
        offload_program_id: opts.hw_prog_id,
    })
}
