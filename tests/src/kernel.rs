//! What the running kernel is and which features it has, so that a test
//! asserts what this kernel must do: the real behaviour where the feature
//! exists, the exact error where it does not. The suite runs on the host
//! and in VMs of other kernels (`./x test --kernel VERSION`); each answer
//! here is a fact of the kernel (its version, its lockdown state, whether
//! it was built with kprobes), never a guess from a test's own outcome.

use std::sync::OnceLock;

/// A kernel feature the tests use that not every supported kernel has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `BPF_PROG_TYPE_SYSCALL` programs (Linux 5.14).
    SyscallPrograms,
    /// Task local storage maps (Linux 5.11).
    TaskStorage,
    /// Batch operations (`BPF_MAP_*_BATCH`) on per-CPU arrays (Linux 5.13;
    /// hash maps and plain arrays have them from 5.6).
    PercpuArrayBatch,
    /// Batch operations on LPM tries (Linux 5.13).
    LpmTrieBatch,
    /// Bloom filter maps (Linux 5.16).
    BloomFilter,
    /// The `bpf_loop` helper (Linux 5.17).
    BpfLoop,
    /// User ring buffers (Linux 6.1).
    UserRingbuf,
    /// Cgroup local storage (`BPF_MAP_TYPE_CGRP_STORAGE`, Linux 6.2).
    CgrpStorage,
    /// The kfuncs tests/bpf/kfuncs.bpf.c calls from a tracing program:
    /// `bpf_task_from_pid` and `bpf_rcu_read_lock` (6.2), the
    /// `bpf_cpumask_*` family (Linux 6.3).
    CpumaskKfuncs,
    /// XDP programs bound to a device and the receive-metadata kfuncs,
    /// `bpf_xdp_metadata_rx_hash` with its hash type among them (Linux 6.3).
    XdpMetadata,
    /// struct_ops maps registered through a BPF link (Linux 6.4).
    StructOpsLink,
    /// tcx attachments (Linux 6.6).
    Tcx,
    /// Arena maps (Linux 6.9).
    Arena,
    /// sockmap attachments through a BPF link (Linux 6.10).
    SockmapLink,
    /// BPF streams: a program's stdout and stderr, written with the
    /// `bpf_stream_vprintk` kfunc and read with
    /// `BPF_PROG_STREAM_READ_BY_FD` (Linux 6.17).
    BpfStreams,
    /// kprobes and kretprobes: the kernel was built with them.
    Kprobes,
    /// fentry, fexit, fmod_ret and LSM programs load: the kernel is not
    /// locked down (lockdown refuses them to everyone).
    Trampolines,
    /// Iterator programs over a map's elements (`iter/bpf_map_elem`) load.
    /// Locked down, this machine kind's kernel (6.18.44-fc, build v1045)
    /// refuses them at load with EPERM before verifying an instruction, as
    /// it does trampolines, while task, file and cgroup iterators load; an
    /// unlocked kernel loads them all.
    MapIterators,
}

impl Feature {
    /// The first mainline release with the feature, for those a version
    /// decides.
    pub fn since(self) -> Option<(u32, u32)> {
        Some(match self {
            Feature::SyscallPrograms => (5, 14),
            Feature::TaskStorage => (5, 11),
            Feature::PercpuArrayBatch | Feature::LpmTrieBatch => (5, 13),
            Feature::BloomFilter => (5, 16),
            Feature::BpfLoop => (5, 17),
            Feature::UserRingbuf => (6, 1),
            Feature::CgrpStorage => (6, 2),
            Feature::CpumaskKfuncs | Feature::XdpMetadata => (6, 3),
            Feature::StructOpsLink => (6, 4),
            Feature::Tcx => (6, 6),
            Feature::Arena => (6, 9),
            Feature::SockmapLink => (6, 10),
            Feature::BpfStreams => (6, 17),
            Feature::Kprobes | Feature::Trampolines | Feature::MapIterators => return None,
        })
    }
}

/// The running kernel.
#[derive(Debug)]
pub struct Kernel {
    /// `uname -r`, e.g. `6.1.0-50-amd64`.
    pub release: String,
    /// The kernel's `LINUX_VERSION_CODE` (major << 16 | minor << 8 |
    /// min(patch, 255)), from the vDSO's note: the real version, where a
    /// distribution's release string may say `6.1.0` for 6.1.176.
    pub version_code: u32,
    /// The lockdown mode (`none`, `integrity`, `confidentiality`).
    pub lockdown: String,
    kprobes: bool,
}

impl Kernel {
    /// `(major, minor)` of the running kernel.
    pub fn version(&self) -> (u32, u32) {
        (self.version_code >> 16, (self.version_code >> 8) & 0xff)
    }

    /// Whether the kernel is `major.minor` or later.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version() >= (major, minor)
    }

    /// Whether the kernel has `feature`.
    pub fn has(&self, feature: Feature) -> bool {
        match feature {
            Feature::Kprobes => self.kprobes,
            Feature::Trampolines | Feature::MapIterators => self.lockdown == "none",
            _ => {
                let (major, minor) = feature.since().expect("a versioned feature");
                self.at_least(major, minor)
            }
        }
    }

    /// Whether the kernel is locked down (integrity or confidentiality).
    pub fn locked_down(&self) -> bool {
        self.lockdown != "none"
    }
}

/// The running kernel, read once.
pub fn kernel() -> &'static Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    KERNEL.get_or_init(|| Kernel {
        release: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .expect("/proc/sys/kernel/osrelease")
            .trim()
            .to_owned(),
        version_code: vdso_version_code(),
        lockdown: lockdown(),
        // The kprobe PMU is there exactly when the kernel was built with
        // CONFIG_KPROBE_EVENTS, which libbpf attaches kprobes through.
        kprobes: std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists(),
    })
}

/// The active lockdown mode: `/sys/kernel/security/lockdown` lists the
/// modes with the active one in brackets; no file is no lockdown.
fn lockdown() -> String {
    let Ok(text) = std::fs::read_to_string("/sys/kernel/security/lockdown") else {
        return "none".to_owned();
    };
    text.split_whitespace()
        .find_map(|mode| mode.strip_prefix('[')?.strip_suffix(']'))
        .unwrap_or("none")
        .to_owned()
}

/// `LINUX_VERSION_CODE` from the "Linux" ELF note of the vDSO the kernel
/// maps into every process.
fn vdso_version_code() -> u32 {
    // SAFETY: getauxval only reads the process's auxiliary vector.
    let base = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) } as usize;
    assert_ne!(base, 0, "the kernel maps a vDSO");
    // SAFETY: the vDSO is a complete ELF image mapped readable for the
    // process's lifetime; its program headers and notes lie inside it.
    unsafe {
        let ehdr = &*(base as *const libc::Elf64_Ehdr);
        let phdrs = std::slice::from_raw_parts(
            (base + ehdr.e_phoff as usize) as *const libc::Elf64_Phdr,
            usize::from(ehdr.e_phnum),
        );
        for phdr in phdrs.iter().filter(|p| p.p_type == libc::PT_NOTE) {
            let notes = std::slice::from_raw_parts(
                (base + phdr.p_offset as usize) as *const u8,
                phdr.p_filesz as usize,
            );
            if let Some(code) = linux_note(notes) {
                return code;
            }
        }
    }
    panic!("the vDSO has no Linux version note");
}

/// The 4-byte descriptor of the note named "Linux" of type 0 in `notes`.
fn linux_note(mut notes: &[u8]) -> Option<u32> {
    let word = |b: &[u8], i: usize| u32::from_ne_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
    let align = |n: usize| n.div_ceil(4) * 4;
    while notes.len() >= 12 {
        let (namesz, descsz, kind) = (
            word(notes, 0) as usize,
            word(notes, 1) as usize,
            word(notes, 2),
        );
        let name = notes.get(12..12 + namesz)?;
        let desc_at = 12 + align(namesz);
        let desc = notes.get(desc_at..desc_at + descsz)?;
        if kind == 0 && name == b"Linux\0" && descsz == 4 {
            return Some(word(desc, 0));
        }
        notes = notes.get(desc_at + align(descsz)..)?;
    }
    None
}

/// Asserts that `result` is the error a kernel older than 6.6 gives for a
/// tcx attach: an attach error of `program` naming the version needed.
pub fn assert_tcx_refused<T: std::fmt::Debug>(result: ebpf_skeleton::Result<T>, program: &str) {
    let err = result.expect_err("a kernel without tcx attached a tcx program");
    let ebpf_skeleton::Error::Attach {
        program: name,
        target,
        ..
    } = &err
    else {
        panic!("expected an attach error, got {err}");
    };
    assert_eq!(name, program, "{err}");
    assert!(target.starts_with("tcx of interface"), "{err}");
    let needs = format!(
        "tcx needs Linux 6.6 or later and this kernel is {}: attach with legacy tc instead",
        kernel().release
    );
    assert!(err.to_string().ends_with(&needs), "{err}");
}

/// Asserts that `result` is the error loading `object` gives on a kernel
/// without the kind of its map `map`: libbpf's creation of the map fails
/// with EINVAL, and the error names the object and the map.
pub fn assert_map_refused<T>(result: ebpf_skeleton::Result<T>, object: &str, map: &str) {
    let Err(err) = result else {
        panic!(
            "kernel {} created map `{map}` of `{object}`",
            kernel().release
        );
    };
    let ebpf_skeleton::Error::Load {
        object: name,
        details,
        ..
    } = &err
    else {
        panic!("expected a load error, got {err}");
    };
    assert_eq!(name, object, "{err}");
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert!(
        details.contains(&format!("map '{map}': failed to create: -EINVAL")),
        "{err}"
    );
}

/// Asserts that `result` is the error loading `object` gives on a kernel
/// without `bpf_loop` (5.17) when its program `program` calls it: the
/// kernel refuses the program with EINVAL. Before 5.13 the kernel does not
/// see the callback as a function of its own (no `BPF_PSEUDO_FUNC`), so
/// the BTF describes one function too many; from 5.13 it has no helper 181.
pub fn assert_bpf_loop_refused<T>(result: ebpf_skeleton::Result<T>, object: &str, program: &str) {
    assert!(!kernel().has(Feature::BpfLoop), "a kernel with bpf_loop");
    let Err(err) = result else {
        panic!(
            "kernel {} loaded `{program}` of `{object}`, which calls bpf_loop",
            kernel().release
        );
    };
    let ebpf_skeleton::Error::ProgramLoad {
        object: name,
        program: refused,
        ..
    } = &err
    else {
        panic!("expected a program load error, got {err}");
    };
    assert_eq!(
        (name.as_str(), refused.as_str()),
        (object, program),
        "{err}"
    );
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    let expected = if kernel().at_least(5, 13) {
        "invalid func unknown#181"
    } else {
        "number of funcs in func_info doesn't match number of subprogs"
    };
    let log = err.verifier_log().expect("a verifier log");
    assert!(log.contains(expected), "{log}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vdso_version_agrees_with_the_release_series() {
        let k = kernel();
        let series = format!("{}.{}", k.version().0, k.version().1);
        assert!(
            k.release.starts_with(&format!("{series}."))
                || k.release.starts_with(&format!("{series}-")),
            "release {} is not of series {series}",
            k.release
        );
    }
}
