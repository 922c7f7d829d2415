//! Running LLVM 19's tools, which the tests compare against.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Runs an LLVM 19 tool; a missing tool fails the test, as `./x test`
/// installs it (apt package llvm-19).
pub fn run(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install llvm-19 (./x test's setup does)")
    });
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("LLVM prints UTF-8")
}

/// What `llvm-objdump-19 -d --no-show-raw-insn` prints for each code
/// section of `object`: the slot index and text of each instruction, the
/// `<symbol+offset>` after a jump's target cut off.
pub fn objdump(object: &Path, extra: &[&str]) -> BTreeMap<String, Vec<(usize, String)>> {
    let path = object.to_str().expect("UTF-8 path");
    let mut args = vec!["-d", "--no-show-raw-insn"];
    args.extend_from_slice(extra);
    args.push(path);
    let text = run("llvm-objdump-19", &args);
    let mut sections = BTreeMap::new();
    let mut current: Option<&mut Vec<(usize, String)>> = None;
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix("Disassembly of section ")
            .and_then(|rest| rest.strip_suffix(':'))
        {
            current = Some(sections.entry(name.to_owned()).or_default());
            continue;
        }
        let Some((index, insn)) = line.split_once(":\t") else {
            continue;
        };
        let Ok(index) = index.trim().parse::<usize>() else {
            continue;
        };
        let insn = match insn.rfind(" <") {
            Some(at) if insn.ends_with('>') => &insn[..at],
            _ => insn,
        };
        if let Some(lines) = current.as_mut() {
            lines.push((index, insn.to_owned()));
        }
    }
    sections
}
