//! `vmlinux.h`: every type of the kernel's BTF as C, generated once and
//! regenerated only when the BTF it came from changes.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use ebpf_skeleton::btf::Btf;

use crate::{Error, Vmlinux};

/// The running kernel's BTF, as sysfs shows it.
const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Writes `include/vmlinux.h` unless the one there came from the same BTF.
pub fn write(from: &Vmlinux, include: &Path) -> Result<(), Error> {
    let source = match from {
        Vmlinux::Kernel => PathBuf::from(KERNEL_BTF),
        Vmlinux::File(path) => path.clone(),
    };
    // Watched on every run, cached or not: cargo keeps only the last run's
    // list, and a new kernel (or file) must regenerate the header.
    println!("cargo:rerun-if-changed={}", source.display());
    let bytes = std::fs::read(&source).map_err(|e| Error::io("reading BTF from", &source, e))?;
    let stamp = format!(
        "{} {} {:016x}\n",
        source.display(),
        bytes.len(),
        digest(&bytes)
    );
    let header = include.join("vmlinux.h");
    let stamp_file = include.join("vmlinux.h.from");
    if header.is_file() && std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    let btf = Btf::from_file(&source).map_err(Error::Vmlinux)?;
    // Written aside and renamed, so that an interrupted build leaves no
    // half header behind a valid stamp.
    let partial = include.join("vmlinux.h.partial");
    let file = std::fs::File::create(&partial).map_err(|e| Error::io("writing", &partial, e))?;
    btf.write_c_header(&file).map_err(Error::Vmlinux)?;
    drop(file);
    std::fs::rename(&partial, &header).map_err(|e| Error::io("writing", &header, e))?;
    std::fs::write(&stamp_file, stamp).map_err(|e| Error::io("writing", &stamp_file, e))
}

/// A digest of the BTF, enough to notice a different kernel.
fn digest(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
