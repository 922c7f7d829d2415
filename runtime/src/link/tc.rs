//! Legacy tc: a `sched_cls` program as a direct-action filter of an
//! interface's `clsact` qdisc, on every kernel (tcx needs Linux 6.6).

/// Which side of the `clsact` qdisc a filter goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcHook {
    /// Packets the interface receives.
    Ingress,
    /// Packets the interface sends.
    Egress,
}

/// Where a legacy tc filter goes: ingress or egress, its priority among
/// the hook's filters (lower runs first), and its handle. The `clsact`
/// qdisc is created when the interface has none (and left there).
///
/// ```no_run
/// use ebpf_skeleton::link::TcOptions;
/// # fn example(program: &ebpf_skeleton::Program, ifindex: u32) -> ebpf_skeleton::Result<()> {
/// let _filter = program.attach_tc(ifindex, &TcOptions::ingress().priority(1).handle(1))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcOptions {
    pub(crate) hook: TcHook,
    pub(crate) priority: u16,
    pub(crate) handle: u32,
    pub(crate) replace: bool,
}

impl TcOptions {
    /// On ingress, priority and handle picked by the kernel.
    pub fn ingress() -> Self {
        Self::on(TcHook::Ingress)
    }

    /// On egress, priority and handle picked by the kernel.
    pub fn egress() -> Self {
        Self::on(TcHook::Egress)
    }

    /// On `hook`.
    pub fn on(hook: TcHook) -> Self {
        TcOptions {
            hook,
            priority: 0,
            handle: 0,
            replace: false,
        }
    }

    /// The filter's priority: filters run from the lowest number up
    /// (0, the default, lets the kernel pick).
    pub fn priority(mut self, priority: u16) -> Self {
        self.priority = priority;
        self
    }

    /// The filter's handle, unique at its priority (0, the default, lets
    /// the kernel pick).
    pub fn handle(mut self, handle: u32) -> Self {
        self.handle = handle;
        self
    }

    /// Replaces the filter already at this priority and handle, if any,
    /// instead of failing with `EEXIST` (both must be given).
    pub fn replace(mut self) -> Self {
        self.replace = true;
        self
    }
}
