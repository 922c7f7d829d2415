//! Attaching to many probe points with one link: kprobe_multi and
//! uprobe_multi (and their return and session forms), through libbpf, which
//! resolves patterns and symbols.

use std::ffi::CString;
use std::io;

use libbpf_sys as sys;

use super::Program;
use crate::error::{Error, Result};
use crate::link::{KprobeMulti, Link, UprobeMulti};

impl Program {
    /// Attaches a `kprobe.multi`, `kretprobe.multi` or `kprobe.session`
    /// program to the kernel functions `probe` names. Kernels without
    /// fprobe (`CONFIG_FPROBE`), and kernels without kprobes, refuse with
    /// `EOPNOTSUPP`.
    pub fn attach_kprobe_multi(&self, probe: &KprobeMulti) -> Result<Link> {
        let target = probe.describe();
        self.check_counts(
            &target,
            probe.cookies.len(),
            &[probe.symbols.len(), probe.addresses.len()],
        )?;
        let pattern = match &probe.pattern {
            Some(p) => Some(self.c_string(&target, p.as_bytes())?),
            None => None,
        };
        let symbols = self.c_strings(&target, &probe.symbols)?;
        let mut symbol_ptrs: Vec<*const libc::c_char> =
            symbols.iter().map(|s| s.as_ptr()).collect();
        let addresses: Vec<libc::c_ulong> = probe.addresses.iter().map(|&a| a as _).collect();
        let count = symbols.len().max(addresses.len());
        let opts = sys::bpf_kprobe_multi_opts {
            sz: size_of::<sys::bpf_kprobe_multi_opts>() as _,
            syms: if symbol_ptrs.is_empty() {
                std::ptr::null_mut()
            } else {
                symbol_ptrs.as_mut_ptr()
            },
            addrs: if addresses.is_empty() {
                std::ptr::null()
            } else {
                addresses.as_ptr()
            },
            cookies: if probe.cookies.is_empty() {
                std::ptr::null()
            } else {
                probe.cookies.as_ptr()
            },
            cnt: if pattern.is_some() { 0 } else { count as _ },
            retprobe: probe.kind == crate::link::MultiKind::Return,
            session: probe.kind == crate::link::MultiKind::Session,
            ..Default::default()
        };
        let pattern_ptr = pattern.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        // SAFETY: as in `attach`; the strings, arrays and options live
        // across the call, and libbpf copies what it keeps.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_kprobe_multi_opts(p, pattern_ptr, &opts)
        })
    }

    /// Attaches a `uprobe.multi`, `uretprobe.multi` or `uprobe.session`
    /// program to the places of an ELF binary `probe` names (Linux 6.6).
    pub fn attach_uprobe_multi(&self, probe: &UprobeMulti) -> Result<Link> {
        let target = probe.describe();
        self.check_counts(
            &target,
            probe.cookies.len(),
            &[probe.symbols.len(), probe.offsets.len()],
        )?;
        self.check_counts(
            &target,
            probe.ref_ctr_offsets.len(),
            &[probe.symbols.len(), probe.offsets.len()],
        )?;
        let binary = self.c_string(&target, probe.binary.as_os_str().as_encoded_bytes())?;
        let pattern = match &probe.pattern {
            Some(p) => Some(self.c_string(&target, p.as_bytes())?),
            None => None,
        };
        let symbols = self.c_strings(&target, &probe.symbols)?;
        let mut symbol_ptrs: Vec<*const libc::c_char> =
            symbols.iter().map(|s| s.as_ptr()).collect();
        let offsets: Vec<libc::c_ulong> = probe.offsets.iter().map(|&o| o as _).collect();
        let ref_ctrs: Vec<libc::c_ulong> = probe.ref_ctr_offsets.iter().map(|&o| o as _).collect();
        let count = symbols.len().max(offsets.len());
        let or_null = |v: &[libc::c_ulong]| {
            if v.is_empty() {
                std::ptr::null()
            } else {
                v.as_ptr()
            }
        };
        let opts = sys::bpf_uprobe_multi_opts {
            sz: size_of::<sys::bpf_uprobe_multi_opts>() as _,
            syms: if symbol_ptrs.is_empty() {
                std::ptr::null_mut()
            } else {
                symbol_ptrs.as_mut_ptr()
            },
            offsets: or_null(&offsets),
            ref_ctr_offsets: or_null(&ref_ctrs),
            cookies: if probe.cookies.is_empty() {
                std::ptr::null()
            } else {
                probe.cookies.as_ptr()
            },
            cnt: if pattern.is_some() { 0 } else { count as _ },
            retprobe: probe.kind == crate::link::MultiKind::Return,
            session: probe.kind == crate::link::MultiKind::Session,
            ..Default::default()
        };
        let pid = probe.pid.unwrap_or(-1);
        let pattern_ptr = pattern.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        // SAFETY: as in `attach`; the strings, arrays and options live
        // across the call, and libbpf copies what it keeps.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_uprobe_multi(p, pid, binary.as_ptr(), pattern_ptr, &opts)
        })
    }

    /// Fails unless a per-place list of `given` entries is empty or as long
    /// as the places (the non-empty one of `places`).
    fn check_counts(&self, target: &str, given: usize, places: &[usize]) -> Result<()> {
        let places = places.iter().copied().max().unwrap_or(0);
        if given == 0 || given == places {
            return Ok(());
        }
        Err(Error::Attach {
            program: self.name().to_owned(),
            target: target.to_owned(),
            source: io::Error::from_raw_os_error(libc::EINVAL),
            reason: format!(
                "{given} cookies or reference counters for {places} places (give one per place, \
                 or none; a pattern takes none)"
            ),
        })
    }

    fn c_strings(&self, target: &str, names: &[String]) -> Result<Vec<CString>> {
        names
            .iter()
            .map(|n| self.c_string(target, n.as_bytes()))
            .collect()
    }
}
