//! The process's effective capabilities and the kernel's lockdown state,
//! for errors that explain a refusal.

/// `CAP_NET_ADMIN`
pub(crate) const NET_ADMIN: u32 = 12;
/// `CAP_SYS_ADMIN`
pub(crate) const SYS_ADMIN: u32 = 21;
/// `CAP_PERFMON`
pub(crate) const PERFMON: u32 = 38;
/// `CAP_BPF`
pub(crate) const BPF: u32 = 39;

/// The name of a capability this module knows.
pub(crate) fn name(cap: u32) -> &'static str {
    match cap {
        NET_ADMIN => "CAP_NET_ADMIN",
        SYS_ADMIN => "CAP_SYS_ADMIN",
        PERFMON => "CAP_PERFMON",
        BPF => "CAP_BPF",
        _ => "a capability",
    }
}

/// Whether the process has `cap` in its effective set; `None` when
/// `/proc/self/status` does not say.
pub(crate) fn has(cap: u32) -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    let mask = u64::from_str_radix(hex, 16).ok()?;
    Some(mask >> cap & 1 == 1)
}

/// The kernel's lockdown mode (`integrity`, `confidentiality`) when it is
/// locked down; `None` when it is not, or when securityfs does not say.
pub(crate) fn lockdown() -> Option<String> {
    let text = std::fs::read_to_string("/sys/kernel/security/lockdown").ok()?;
    let mode = text.split('[').nth(1)?.split(']').next()?.trim().to_owned();
    (mode != "none").then_some(mode)
}
