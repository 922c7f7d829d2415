//! The running kernel's build configuration, as `/boot/config-<release>`
//! (where the VM runner puts it) or `/proc/config.gz` has it: whether an
//! option a test depends on was built in (versions and lockdown are in
//! [`crate::kernel`]).

use std::sync::OnceLock;

/// The value of `CONFIG_<name>` (`y`, `m`, a number, a string), `None`
/// when it is not set.
pub fn config(name: &str) -> Option<String> {
    static CONFIG: OnceLock<String> = OnceLock::new();
    let text = CONFIG.get_or_init(|| {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        std::fs::read_to_string(format!("/boot/config-{}", release.trim()))
            .ok()
            .or_else(|| {
                let out = std::process::Command::new("zcat")
                    .arg("/proc/config.gz")
                    .output()
                    .ok()?;
                out.status
                    .success()
                    .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
            })
            .expect("the kernel's config, at /boot/config-<release> or /proc/config.gz")
    });
    let prefix = format!("CONFIG_{name}=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.to_owned())
}

/// Whether `CONFIG_<name>` is built in or a module.
pub fn enabled(name: &str) -> bool {
    matches!(config(name).as_deref(), Some("y" | "m"))
}
