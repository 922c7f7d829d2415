//! `info`, `disasm` and `vmlinux` on this repository's objects and on the
//! running kernel's BTF, checked against what llvm-objdump and the kernel
//! say.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf-skeleton"))
        .args(args)
        .output()
        .expect("running ebpf-skeleton")
}

fn stdout_of(args: &[&str]) -> String {
    let out = tool(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The line that starts (after indentation) with `name` and a space.
fn line_of<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no line for `{name}` in:\n{text}"))
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn info_names_each_programs_hook_each_maps_types_and_each_variable() {
    let object = repo("tests/bpf/everything.bpf.o");
    let text = stdout_of(&["info", object.to_str().unwrap()]);
    assert!(text.starts_with("object `everything`: module `everything`, 11 program(s), 26 map(s), 3 data section(s), 1 type(s)\n"), "{text}");
    assert_eq!(
        words(line_of(&text, "on_tp")),
        [
            "on_tp",
            "section",
            "tp/syscalls/sys_enter_getppid",
            "type",
            "tracepoint",
            "attaches",
            "by",
            "itself"
        ]
    );
    assert_eq!(
        words(line_of(&text, "xdp_pass")),
        ["xdp_pass", "section", "xdp", "type", "xdp", "needs", "a", "target", "to", "attach"]
    );
    assert_eq!(
        words(line_of(&text, "routes")),
        [
            "routes",
            "lpm_trie",
            "key",
            "types::FlowKey",
            "(8",
            "B)",
            "value",
            "u32",
            "(4",
            "B)",
            "max_entries",
            "16",
            "field",
            "LpmTrie<types::FlowKey,",
            "u32>"
        ]
    );
    assert_eq!(
        words(line_of(&text, "ring")),
        [
            "ring",
            "ringbuf",
            "key",
            "-",
            "value",
            "-",
            "max_entries",
            "4096",
            "field",
            "RingBuf"
        ]
    );
    assert!(
        text.contains("\n  .bss (field `bss`, 8 bytes, writable)\n    +0      total_calls: u64\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "\n  .rodata (field `rodata`, 4 bytes, read-only)\n    +0      rodata_marker: u32\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("types:\n  struct types::FlowKey (C `flow_key`, 8 bytes)\n"),
        "{text}"
    );
}

#[test]
fn info_of_a_file_that_is_not_an_object_says_so() {
    let out = tool(&["info", "/etc/hostname"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ebpf-skeleton: ") && err.contains("/etc/hostname"),
        "{err}"
    );
}

/// `(slot, text)` of each instruction llvm-objdump-19 prints, jumps without
/// their `<symbol+offset>`.
fn objdump(object: &Path, section: &str) -> Vec<(u64, String)> {
    let out = Command::new("llvm-objdump-19")
        .args(["-d", "--no-show-raw-insn", "-j", section])
        .arg(object)
        .output()
        .expect("running llvm-objdump-19");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (slot, text) = l.split_once(":\t")?;
            let text = text.split(" <").next().unwrap();
            Some((slot.trim().parse().ok()?, text.to_owned()))
        })
        .collect()
}

#[test]
fn disasm_prints_what_llvm_objdump_prints_with_the_maps_named() {
    let object = repo("examples/execsnoop/bpf/execsnoop.bpf.o");
    let text = stdout_of(&["disasm", object.to_str().unwrap(), "handle_exec"]);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("handle_exec (program, section tp/sched/sched_process_exec):")
    );
    let ours: Vec<(u64, String, Option<String>)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (slot, rest) = l.split_once(": ").expect("slot: instruction");
            let (insn, note) = match rest.split_once("  // ") {
                Some((insn, note)) => (insn, Some(note.to_owned())),
                None => (rest, None),
            };
            (slot.trim().parse().unwrap(), insn.to_owned(), note)
        })
        .collect();
    let theirs = objdump(&object, "tp/sched/sched_process_exec");
    assert!(theirs.len() > 20);
    let plain: Vec<(u64, String)> = ours.iter().map(|(s, i, _)| (*s, i.clone())).collect();
    assert_eq!(plain, theirs);
    // Each map load names its map, as the relocations say.
    let noted: Vec<&str> = ours.iter().filter_map(|(_, _, n)| n.as_deref()).collect();
    for name in ["target_uid", "total_execs", "events", "dropped_events"] {
        assert!(noted.contains(&name), "{name} not named: {noted:?}");
    }
}

#[test]
fn disasm_of_an_unknown_program_lists_the_programs() {
    let object = repo("examples/execsnoop/bpf/execsnoop.bpf.o");
    let out = tool(&["disasm", object.to_str().unwrap(), "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no program named `nope`; it has handle_exec"),
        "{err}"
    );
}

#[test]
fn vmlinux_of_the_kernel_and_of_its_sysfs_file_are_the_same_header() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join(format!("vmlinux-{}.h", std::process::id()));
    stdout_of(&["vmlinux", "-o", file.to_str().unwrap()]);
    let written = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let printed = stdout_of(&["vmlinux", "/sys/kernel/btf/vmlinux"]);
    assert_eq!(written.len(), printed.len());
    assert!(written == printed, "the two headers differ");
    assert!(
        written.contains("struct task_struct {")
            && written.contains("#pragma clang attribute push")
    );

    let out = tool(&["vmlinux", "/nonexistent"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent"), "{err}");
}
