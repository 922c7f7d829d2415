//! Compiles eBPF programs written in C from a build script, so that
//! `build.rs` and one macro line are the whole set-up:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), ebpf_skeleton_build::Error> {
//!     ebpf_skeleton_build::Builder::new()
//!         .source("src/bpf/opensnoop.bpf.c")
//!         .vmlinux_from_kernel()
//!         .build()?;
//!     Ok(())
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs: the object, by its name in OUT_DIR
//! ebpf_skeleton::ebpf_skeleton!("$OUT_DIR/opensnoop.bpf.o");
//! ```
//!
//! Each source is compiled with clang (`EBPF_CLANG`, else `clang` or
//! `clang-NN` on `PATH`) with `-g -O2` for the target's byte order (or for
//! both, as bpf2go's `-target`), with libbpf's headers (`<bpf/bpf_helpers.h>`,
//! `<bpf/bpf_tracing.h>`, `<bpf/bpf_core_read.h>`, ...) from the libbpf this
//! crate is built with, and optionally a `vmlinux.h` from the running
//! kernel's BTF or a BTF file. DWARF is stripped (BTF stays), and cargo is
//! told to rerun the build script when a source or any header it includes
//! changes (from clang's `-MD` output).

mod clang;
mod depfile;
mod error;
mod headers;
mod vmlinux;

use std::path::{Path, PathBuf};

pub use error::Error;

/// The byte order(s) to compile for, as bpf2go's `-target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// The byte order of the crate being built (`CARGO_CFG_TARGET_ENDIAN`):
    /// one object, `<name>.bpf.o`.
    #[default]
    Native,
    /// Little-endian (`bpfel`): `<name>.bpfel.o`.
    Bpfel,
    /// Big-endian (`bpfeb`): `<name>.bpfeb.o`.
    Bpfeb,
    /// Both: `<name>.bpfel.o` and `<name>.bpfeb.o`.
    Both,
}

/// Where `vmlinux.h` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Vmlinux {
    Kernel,
    File(PathBuf),
}

/// One compiled object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The C source it was compiled from.
    pub source: PathBuf,
    /// clang's target: `bpfel` or `bpfeb`.
    pub target: &'static str,
    /// Where it was written.
    pub path: PathBuf,
}

/// What to compile and how; [`Builder::build`] does it.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    sources: Vec<PathBuf>,
    target: Target,
    cflags: Vec<String>,
    vmlinux: Option<Vmlinux>,
    keep_debug_info: bool,
    clang: Option<PathBuf>,
    out_dir: Option<PathBuf>,
}

impl Builder {
    /// Nothing to compile yet, for the native byte order, DWARF stripped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a C source (relative to the package's directory, where build
    /// scripts run). Its object is named for the file up to its first dot:
    /// `src/bpf/opensnoop.bpf.c` gives `opensnoop.bpf.o`.
    pub fn source(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(path.into());
        self
    }

    /// Compiles for these byte orders.
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Passes a flag to clang after the helper's own (so it can override
    /// them, e.g. `-mcpu=v2` or `-O1`).
    pub fn cflag(mut self, flag: impl Into<String>) -> Self {
        self.cflags.push(flag.into());
        self
    }

    /// Defines a preprocessor macro: `-DNAME=VALUE`, or `-DNAME` for an
    /// empty value.
    pub fn define(self, name: &str, value: &str) -> Self {
        if value.is_empty() {
            self.cflag(format!("-D{name}"))
        } else {
            self.cflag(format!("-D{name}={value}"))
        }
    }

    /// Generates `vmlinux.h` from the running kernel's BTF, once (it is
    /// cached in `OUT_DIR` until the kernel's BTF changes).
    pub fn vmlinux_from_kernel(mut self) -> Self {
        self.vmlinux = Some(Vmlinux::Kernel);
        self
    }

    /// Generates `vmlinux.h` from a BTF file (raw BTF, or an ELF file with a
    /// `.BTF` section), cached like [`Builder::vmlinux_from_kernel`].
    pub fn vmlinux_from(mut self, btf: impl Into<PathBuf>) -> Self {
        self.vmlinux = Some(Vmlinux::File(btf.into()));
        self
    }

    /// Keeps DWARF in the objects (for `llvm-objdump -S` with source
    /// lines); they are stripped to BTF by default, as bpf2go does.
    pub fn keep_debug_info(mut self, keep: bool) -> Self {
        self.keep_debug_info = keep;
        self
    }

    /// Uses this clang, whatever `EBPF_CLANG` and `PATH` say.
    pub fn clang(mut self, path: impl Into<PathBuf>) -> Self {
        self.clang = Some(path.into());
        self
    }

    /// Writes the objects (and the headers) here instead of `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Compiles every source, tells cargo what to watch, and returns the
    /// objects.
    pub fn build(&self) -> Result<Vec<Object>, Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        if self.sources.is_empty() {
            return Err(Error::NoSources);
        }
        let clang = clang::Clang::find(self.clang.as_deref())?;
        let include = out_dir.join("include");
        headers::write(&include)?;
        if let Some(vmlinux) = &self.vmlinux {
            vmlinux::write(vmlinux, &include)?;
        }
        let strip = if self.keep_debug_info {
            None
        } else {
            Some(clang.strip()?)
        };
        let mut objects = Vec::new();
        for source in &self.sources {
            for (target, suffix) in self.targets() {
                let path = out_dir.join(format!("{}.{suffix}.o", stem(source)?));
                let depfile = path.with_extension("d");
                clang.compile(&clang::Compile {
                    source,
                    target,
                    out: &path,
                    depfile: &depfile,
                    include: &include,
                    flags: &self.cflags,
                })?;
                if let Some(strip) = &strip {
                    clang::strip(strip, &path)?;
                }
                depfile::watch(&depfile, &out_dir)?;
                objects.push(Object {
                    source: source.clone(),
                    target,
                    path,
                });
            }
        }
        println!("cargo:rerun-if-env-changed={}", clang::ENV);
        Ok(objects)
    }

    /// `(clang target, object suffix)` for each object of a source.
    fn targets(&self) -> Vec<(&'static str, &'static str)> {
        match self.target {
            Target::Native if native_big_endian() => vec![("bpfeb", "bpf")],
            Target::Native => vec![("bpfel", "bpf")],
            Target::Bpfel => vec![("bpfel", "bpfel")],
            Target::Bpfeb => vec![("bpfeb", "bpfeb")],
            Target::Both => vec![("bpfel", "bpfel"), ("bpfeb", "bpfeb")],
        }
    }
}

/// The crate being built is big-endian (in a build script, cargo says;
/// elsewhere, the machine running this).
fn native_big_endian() -> bool {
    match std::env::var("CARGO_CFG_TARGET_ENDIAN") {
        Ok(endian) => endian == "big",
        Err(_) => cfg!(target_endian = "big"),
    }
}

/// The file name up to its first dot: the object's (and skeleton's) name.
fn stem(source: &Path) -> Result<&str, Error> {
    source
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.split('.').next())
        .filter(|stem| !stem.is_empty())
        .ok_or_else(|| Error::BadSource(source.to_owned()))
}
