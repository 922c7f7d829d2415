//! clang's `-MD` output: the files a compilation read, which cargo must
//! watch to rerun the build script when a source or a header changes.

use std::path::{Path, PathBuf};

use crate::Error;

/// Tells cargo to watch every file `depfile` lists, except those written
/// under `out_dir` by this crate (watching them would rerun every build).
pub fn watch(depfile: &Path, out_dir: &Path) -> Result<(), Error> {
    let text = std::fs::read_to_string(depfile)
        .map_err(|e| Error::io("reading clang's dependency file", depfile, e))?;
    for file in parse(&text) {
        if !file.starts_with(out_dir) {
            println!("cargo:rerun-if-changed={}", file.display());
        }
    }
    Ok(())
}

/// The prerequisites of a Make rule `target: a.c b.h \` + newline + `c.h`,
/// with `\ ` for a space in a name and `$$` for `$`.
pub fn parse(text: &str) -> Vec<PathBuf> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut files = Vec::new();
    for rule in joined.lines() {
        let Some(prerequisites) = split_target(rule) else {
            continue;
        };
        let mut name = String::new();
        let mut chars = prerequisites.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => name.push(chars.next().unwrap_or(' ')),
                '$' if chars.peek() == Some(&'$') => name.push(chars.next().unwrap_or('$')),
                c if c.is_whitespace() => {
                    if !name.is_empty() {
                        files.push(PathBuf::from(std::mem::take(&mut name)));
                    }
                }
                c => name.push(c),
            }
        }
        if !name.is_empty() {
            files.push(PathBuf::from(name));
        }
    }
    files
}

/// What follows the rule's `target:` (the first colon followed by a space
/// or the end, so that a colon inside a path is kept).
fn split_target(rule: &str) -> Option<&str> {
    let bytes = rule.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace()))
        .map(|i| &rule[i + 1..])
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn continued_lines_and_escapes_give_each_file() {
        let text = "/out/x.bpf.o: src/x.bpf.c /out/include/vmlinux.h \\\n  src/my\\ header.h \\\n  /usr/a$$b.h\n";
        let files: Vec<PathBuf> = super::parse(text);
        assert_eq!(
            files,
            [
                "src/x.bpf.c",
                "/out/include/vmlinux.h",
                "src/my header.h",
                "/usr/a$b.h"
            ]
            .map(PathBuf::from)
        );
    }
}
