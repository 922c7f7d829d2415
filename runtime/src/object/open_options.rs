//! What libbpf must know before it parses an object: a pin root, a kernel
//! BTF, a kernel config.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What libbpf must know before it parses an object.
///
/// ```no_run
/// use ebpf_skeleton::{OpenObject, OpenOptions};
/// # static BYTES: &[u8] = &[];
/// # fn main() -> ebpf_skeleton::Result<()> {
/// let options = OpenOptions::new()
///     .pin_root("/sys/fs/bpf/mytool") // for maps declared LIBBPF_PIN_BY_NAME
///     .kernel_btf("/var/lib/mytool/vmlinux.btf") // for kernels without /sys/kernel/btf/vmlinux
///     .kconfig("CONFIG_HZ=250\n"); // for `.kconfig` externs in containers without /boot
/// let object = OpenObject::from_static_with("prog", BYTES, &options)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    pub(crate) pin_root: Option<PathBuf>,
    pub(crate) kernel_btf: Option<PathBuf>,
    pub(crate) kconfig: Option<String>,
}

impl OpenOptions {
    /// libbpf's defaults: pins under `/sys/fs/bpf`, the running kernel's BTF,
    /// its config from `/boot/config-<release>` or `/proc/config.gz`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The directory where maps declared with `LIBBPF_PIN_BY_NAME` are
    /// pinned (and a compatible map pinned there is reused).
    pub fn pin_root(mut self, dir: impl AsRef<Path>) -> Self {
        self.pin_root = Some(dir.as_ref().to_owned());
        self
    }

    /// The kernel BTF that CO-RE relocations are resolved against, instead
    /// of `/sys/kernel/btf/vmlinux` (a BTF file for a kernel built without
    /// it, from BTFHub for instance).
    pub fn kernel_btf(mut self, path: impl AsRef<Path>) -> Self {
        self.kernel_btf = Some(path.as_ref().to_owned());
        self
    }

    /// The kernel configuration `.kconfig` externs read (`CONFIG_X=y` lines),
    /// instead of the running kernel's.
    pub fn kconfig(mut self, text: impl Into<String>) -> Self {
        self.kconfig = Some(text.into());
        self
    }

    /// Like [`OpenOptions::kconfig`], read from a file (a kernel's
    /// `/boot/config-<release>`, uncompressed).
    pub fn kconfig_file(self, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| {
            Error::sys(
                format!("reading the kernel config {}", path.display()),
                source,
            )
        })?;
        Ok(self.kconfig(text))
    }

    /// The options as C strings for libbpf's open options, which must live
    /// as long as the open call.
    pub(crate) fn c_strings(&self) -> Result<[Option<CString>; 3]> {
        let path = |p: &Option<PathBuf>, what: &str| {
            p.as_ref()
                .map(|p| c_string(p.as_os_str().as_encoded_bytes(), what))
                .transpose()
        };
        Ok([
            path(&self.pin_root, "pin root")?,
            path(&self.kernel_btf, "kernel BTF path")?,
            self.kconfig
                .as_ref()
                .map(|k| c_string(k.as_bytes(), "kernel config"))
                .transpose()?,
        ])
    }
}

fn c_string(bytes: &[u8], what: &str) -> Result<CString> {
    CString::new(bytes).map_err(|e| {
        Error::sys(
            format!("the {what} holds a NUL byte at byte {}", e.nul_position()),
            std::io::Error::from_raw_os_error(libc::EINVAL),
        )
    })
}
