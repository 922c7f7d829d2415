//! Attaching tracing programs with options: tracepoints and raw
//! tracepoints with a cookie, trampoline programs (fentry, fexit, fmod_ret,
//! tp_btf, lsm) to the target they were loaded for, and freplace programs
//! in place of a function of another program.

use std::os::fd::AsRawFd;

use libbpf_sys as sys;

use super::Program;
use crate::error::Result;
use crate::link::{Link, TraceOptions};

impl Program {
    /// Attaches a `tracepoint` program to the tracepoint `category:name`
    /// with the cookie `options` gives (Linux 5.15).
    pub fn attach_tracepoint_with(
        &self,
        category: &str,
        name: &str,
        options: &TraceOptions,
    ) -> Result<Link> {
        let target = format!("tracepoint `{category}:{name}`");
        let (c_category, c_name) = (
            self.c_string(&target, category.as_bytes())?,
            self.c_string(&target, name.as_bytes())?,
        );
        let opts = sys::bpf_tracepoint_opts {
            sz: size_of::<sys::bpf_tracepoint_opts>() as _,
            bpf_cookie: options.cookie,
        };
        // SAFETY: as in `attach`; the strings and options live across the call.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_tracepoint_opts(p, c_category.as_ptr(), c_name.as_ptr(), &opts)
        })
    }

    /// Attaches a `raw_tp` program to the raw tracepoint `name` with the
    /// cookie `options` gives (Linux 6.10).
    pub fn attach_raw_tracepoint_with(&self, name: &str, options: &TraceOptions) -> Result<Link> {
        let target = format!("raw tracepoint `{name}`");
        let c_name = self.c_string(&target, name.as_bytes())?;
        let mut opts = sys::bpf_raw_tracepoint_opts {
            sz: size_of::<sys::bpf_raw_tracepoint_opts>() as _,
            cookie: options.cookie,
        };
        // SAFETY: as in `attach`; the string and options live across the
        // call (libbpf takes them by mutable pointer but only reads them).
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_raw_tracepoint_opts(p, c_name.as_ptr(), &mut opts)
        })
    }

    /// Attaches an `fentry`, `fexit`, `fmod_ret` or `tp_btf` program to the
    /// kernel function or tracepoint it was loaded for: its section's, or
    /// the one [`ProgramSpec::set_attach_function`](crate::ProgramSpec::set_attach_function)
    /// chose at run time before load; with the cookie `options` gives (Linux 5.19).
    /// A kernel locked down for integrity refuses these programs at load.
    pub fn attach_trace(&self, options: &TraceOptions) -> Result<Link> {
        let target = self.trampoline_target("the kernel function");
        let opts = sys::bpf_trace_opts {
            sz: size_of::<sys::bpf_trace_opts>() as _,
            cookie: options.cookie,
        };
        // SAFETY: as in `attach`; the options live across the call.
        self.attach_with(target, true, |p| unsafe {
            sys::bpf_program__attach_trace_opts(p, &opts)
        })
    }

    /// Attaches an `lsm` program to the LSM hook it was loaded for (its
    /// section's, or one chosen before load). Needs the BPF LSM active
    /// (`lsm=...,bpf` on the kernel's command line).
    pub fn attach_lsm(&self) -> Result<Link> {
        let target = self.trampoline_target("the LSM hook");
        // SAFETY: as in `attach`.
        self.attach_with(target, true, |p| unsafe { sys::bpf_program__attach_lsm(p) })
    }

    /// Attaches an `freplace` program in place of the global function
    /// `function` of the program `target` (which must have BTF): calls to
    /// that function run this program instead while the link lives. The
    /// program must have been loaded for that target
    /// ([`ProgramSpec::set_replaced_function`](crate::ProgramSpec::set_replaced_function)).
    pub fn attach_freplace(&self, target: &Program, function: &str) -> Result<Link> {
        let what = format!(
            "function `{function}` of program `{}` (freplace)",
            target.name()
        );
        let c_function = self.c_string(&what, function.as_bytes())?;
        let target_fd = target.fd()?.as_raw_fd();
        // SAFETY: as in `attach`; the string lives across the call and the
        // target's descriptor is open (borrowed from `target`).
        self.attach_with(what, true, |p| unsafe {
            sys::bpf_program__attach_freplace(p, target_fd, c_function.as_ptr())
        })
    }

    /// How errors name the hook of a trampoline program: its section's
    /// target, or `fallback`.
    fn trampoline_target(&self, fallback: &str) -> String {
        match self.section().split_once('/') {
            Some((kind, hook)) if !hook.is_empty() => format!("{kind} `{hook}`"),
            _ if !self.section().is_empty() => {
                format!("{fallback} of its {} program", self.section())
            }
            _ => fallback.to_owned(),
        }
    }
}
