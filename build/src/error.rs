//! What can go wrong, said so that the fix is clear from the message.

use std::path::PathBuf;

/// A failure to build the objects. `Debug` prints the message, so that a
/// build script's `main` can return it as it is.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No clang was found.
    #[error(
        "no clang found (looked at ${env}, then for clang and clang-{min}..clang-{max} on PATH): \
         install clang (on Debian or Ubuntu, the package clang-19: `apt-get install clang-19`) \
         or set {env} to a clang binary",
        env = crate::clang::ENV,
        min = crate::clang::MIN_MAJOR,
        max = crate::clang::MAX_MAJOR
    )]
    ClangMissing,

    /// The clang named (by `EBPF_CLANG` or `Builder::clang`) cannot be run.
    #[error(
        "cannot run clang `{path}` ({source}): install clang (on Debian or Ubuntu, the package \
         clang-19) or set {env} to a clang binary",
        path = path.display(),
        env = crate::clang::ENV
    )]
    ClangNotRunnable {
        /// The clang binary.
        path: PathBuf,
        /// Why it could not be started.
        source: std::io::Error,
    },

    /// The clang found is too old for eBPF with BTF and CO-RE.
    #[error(
        "`{path}` is clang {version}, and eBPF programs need clang {min} or newer: install \
         a newer clang (on Debian or Ubuntu, the package clang-19) or set {env} to one",
        path = path.display(),
        min = crate::clang::MIN_MAJOR,
        env = crate::clang::ENV
    )]
    ClangTooOld {
        /// The clang binary.
        path: PathBuf,
        /// What `clang --version` says.
        version: String,
    },

    /// No `llvm-strip` to remove DWARF with.
    #[error(
        "no llvm-strip found beside `{clang}` nor as llvm-strip-{major} or llvm-strip on PATH: \
         install the package llvm-{major}, or keep the DWARF with `.keep_debug_info(true)`",
        clang = clang.display()
    )]
    StripMissing {
        /// The clang in use.
        clang: PathBuf,
        /// Its major version.
        major: u32,
    },

    /// clang (or llvm-strip) ran and failed.
    #[error("{tool} failed on `{source_file}` for {target}:\n{stderr}", source_file = source_file.display())]
    Compile {
        /// `clang` or `llvm-strip`.
        tool: &'static str,
        /// The C source (or object).
        source_file: PathBuf,
        /// `bpfel` or `bpfeb`.
        target: &'static str,
        /// What the tool printed.
        stderr: String,
    },

    /// A file could not be read, written or run.
    #[error("{what} `{path}`: {source}", path = path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// To which file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },

    /// `vmlinux.h` could not be written from BTF.
    #[error("generating vmlinux.h: {0}")]
    Vmlinux(#[source] ebpf_skeleton::Error),

    /// A source's file name gives no object name.
    #[error("`{}` has no file name to name its object by", .0.display())]
    BadSource(PathBuf),

    /// `build` was given no source.
    #[error("no C source given: add one with `.source(\"src/bpf/prog.bpf.c\")`")]
    NoSources,

    /// Neither `OUT_DIR` nor `out_dir` says where objects go.
    #[error("OUT_DIR is not set: call `build` from a build script, or give `.out_dir(...)`")]
    NoOutDir,
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Error {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
