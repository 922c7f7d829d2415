//! Finding clang (and the llvm-strip of the same LLVM) and running it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// The environment variable naming the clang to use.
pub const ENV: &str = "EBPF_CLANG";
/// The oldest clang accepted: BTF for globals, CO-RE relocations of enums
/// and types, `btf_decl_tag`.
pub const MIN_MAJOR: u32 = 14;
/// The newest versioned name looked for on `PATH` (`clang-NN`).
pub const MAX_MAJOR: u32 = 30;

/// A clang that is new enough.
pub struct Clang {
    path: PathBuf,
    major: u32,
    /// The host's system header directories, searched after everything
    /// else (`-idirafter`): with `--target=bpf` clang leaves out the
    /// multiarch directory (`/usr/include/x86_64-linux-gnu`), where
    /// `<linux/bpf.h>` finds `<asm/types.h>`.
    system_includes: Vec<PathBuf>,
}

/// One compilation.
pub struct Compile<'a> {
    pub source: &'a Path,
    /// `bpfel` or `bpfeb`.
    pub target: &'static str,
    pub out: &'a Path,
    /// Where clang writes the files it read (`-MD -MF`).
    pub depfile: &'a Path,
    /// The headers' directory (`bpf/*.h`, `vmlinux.h`).
    pub include: &'a Path,
    /// The user's flags, last.
    pub flags: &'a [String],
}

impl Clang {
    /// `given`, else `$EBPF_CLANG`, else `clang` or the newest `clang-NN`
    /// on `PATH`; checked to be clang `MIN_MAJOR` or newer.
    pub fn find(given: Option<&Path>) -> Result<Self, Error> {
        let path = match given {
            Some(path) => path.to_owned(),
            None => match std::env::var_os(ENV) {
                Some(path) => PathBuf::from(path),
                None => on_path().ok_or(Error::ClangMissing)?,
            },
        };
        let output = Command::new(&path)
            .arg("--version")
            .output()
            .map_err(|source| Error::ClangNotRunnable {
                path: path.clone(),
                source,
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        let version = version_of(&text).unwrap_or_default();
        let major = version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        if major < MIN_MAJOR {
            return Err(Error::ClangTooOld {
                path,
                version: if version.is_empty() {
                    text.lines()
                        .next()
                        .unwrap_or("of no known version")
                        .to_owned()
                } else {
                    version
                },
            });
        }
        let system_includes = system_includes(&path);
        Ok(Clang {
            path,
            major,
            system_includes,
        })
    }

    /// Runs clang once.
    pub fn compile(&self, c: &Compile<'_>) -> Result<(), Error> {
        let mut cmd = Command::new(&self.path);
        cmd.args(["-g", "-O2", "-mcpu=v3", "-Wall"])
            .arg(format!("--target={}", c.target))
            .arg(format!("-D__TARGET_ARCH_{}", target_arch()))
            .arg("-I")
            .arg(c.include);
        if let Some(dir) = c.source.parent().filter(|d| !d.as_os_str().is_empty()) {
            cmd.arg("-I").arg(dir);
        }
        for dir in &self.system_includes {
            cmd.arg("-idirafter").arg(dir);
        }
        cmd.args(c.flags)
            .arg("-MD")
            .arg("-MF")
            .arg(c.depfile)
            .arg("-c")
            .arg(c.source)
            .arg("-o")
            .arg(c.out);
        run(cmd, "clang", c.source, c.target)
    }

    /// The llvm-strip of this clang's LLVM: beside it (following links, as
    /// `/usr/bin/clang-19` is `/usr/lib/llvm-19/bin/clang`), else
    /// `llvm-strip-NN` or `llvm-strip` on `PATH`.
    pub fn strip(&self) -> Result<PathBuf, Error> {
        let beside = std::fs::canonicalize(&self.path)
            .ok()
            .and_then(|real| Some(real.parent()?.join("llvm-strip")));
        beside
            .filter(|p| p.is_file())
            .or_else(|| find_on_path(&format!("llvm-strip-{}", self.major)))
            .or_else(|| find_on_path("llvm-strip"))
            .ok_or_else(|| Error::StripMissing {
                clang: self.path.clone(),
                major: self.major,
            })
    }
}

/// Removes DWARF, keeping BTF (`llvm-strip -g`, as bpf2go does).
pub fn strip(strip: &Path, object: &Path) -> Result<(), Error> {
    let mut cmd = Command::new(strip);
    cmd.arg("-g").arg(object);
    run(cmd, "llvm-strip", object, "the object")
}

fn run(
    mut cmd: Command,
    tool: &'static str,
    file: &Path,
    target: &'static str,
) -> Result<(), Error> {
    let output = cmd
        .output()
        .map_err(|e| Error::io("running clang", file, e))?;
    if output.status.success() {
        // Warnings, if any, are worth seeing in cargo's output.
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            println!("cargo:warning={line}");
        }
        return Ok(());
    }
    Err(Error::Compile {
        tool,
        source_file: file.to_owned(),
        target,
        stderr: String::from_utf8_lossy(&output.stderr)
            .trim_end()
            .to_owned(),
    })
}

/// The directories clang searches for `<...>` headers when it compiles for
/// the host, from its `-v` report (none if it gives no report).
fn system_includes(clang: &Path) -> Vec<PathBuf> {
    let Ok(output) = Command::new(clang)
        .args(["-v", "-E", "-x", "c", "/dev/null", "-o", "/dev/null"])
        .output()
    else {
        return Vec::new();
    };
    search_list(&String::from_utf8_lossy(&output.stderr))
}

/// The lines between `#include <...> search starts here:` and `End of
/// search list.` of clang's `-v` report.
fn search_list(report: &str) -> Vec<PathBuf> {
    report
        .lines()
        .skip_while(|l| !l.starts_with("#include <...> search starts here:"))
        .skip(1)
        .take_while(|l| !l.starts_with("End of search list."))
        .map(|l| PathBuf::from(l.trim()))
        .collect()
}

/// `19.1.7` from `Debian clang version 19.1.7 (3+b1)`.
fn version_of(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains("clang version"))?;
    let after = line.split("clang version").nth(1)?.trim_start();
    Some(after.split_whitespace().next()?.to_owned())
}

/// `clang`, or the newest `clang-NN`, on `PATH`.
fn on_path() -> Option<PathBuf> {
    find_on_path("clang").or_else(|| {
        (MIN_MAJOR..=MAX_MAJOR)
            .rev()
            .find_map(|major| find_on_path(&format!("clang-{major}")))
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The kernel's name for the architecture, which `bpf_tracing.h` reads
/// registers by (`__TARGET_ARCH_x86`).
fn target_arch() -> &'static str {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH")
        .unwrap_or_else(|_| std::env::consts::ARCH.to_owned());
    match arch.as_str() {
        "x86_64" | "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" => "riscv",
        "s390x" => "s390",
        "powerpc64" | "powerpc" => "powerpc",
        "loongarch64" => "loongarch",
        "mips" | "mips64" => "mips",
        _ => "x86",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_are_read_from_each_vendors_banner() {
        assert_eq!(
            super::version_of("Debian clang version 19.1.7 (3+b1)\nTarget: x86_64").as_deref(),
            Some("19.1.7")
        );
        assert_eq!(
            super::version_of("clang version 14.0.0\n").as_deref(),
            Some("14.0.0")
        );
        assert_eq!(super::version_of("gcc (Debian 12.2.0-14) 12.2.0"), None);
    }

    #[test]
    fn the_search_list_is_read_from_clangs_report() {
        let report = "clang -cc1 ...\n#include \"...\" search starts here:\n\
                      #include <...> search starts here:\n /usr/lib/llvm-19/lib/clang/19/include\n \
                      /usr/include/x86_64-linux-gnu\n /usr/include\nEnd of search list.\n";
        assert_eq!(
            super::search_list(report),
            [
                "/usr/lib/llvm-19/lib/clang/19/include",
                "/usr/include/x86_64-linux-gnu",
                "/usr/include"
            ]
            .map(std::path::PathBuf::from)
        );
        assert!(super::search_list("no report").is_empty());
    }
}
