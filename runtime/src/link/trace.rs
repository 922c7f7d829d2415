//! What tracepoints, raw tracepoints and trampoline programs (fentry,
//! fexit, fmod_ret, tp_btf) take at attach: a cookie.

/// A cookie for the program to read with `bpf_get_attach_cookie`, telling
/// apart the places one program is attached to (tracepoints from Linux
/// 5.15, trampolines 5.19, raw tracepoints 6.10).
///
/// ```no_run
/// use ebpf_skeleton::link::TraceOptions;
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let _open = program.attach_tracepoint_with("syscalls", "sys_enter_openat", &TraceOptions::cookie(1))?;
/// let _close = program.attach_tracepoint_with("syscalls", "sys_enter_close", &TraceOptions::cookie(2))?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceOptions {
    pub(crate) cookie: u64,
}

impl TraceOptions {
    /// No cookie (0).
    pub fn new() -> Self {
        Self::default()
    }

    /// The cookie `cookie`.
    pub fn cookie(cookie: u64) -> Self {
        TraceOptions { cookie }
    }
}
