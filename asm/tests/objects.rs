//! Every program of every eBPF object committed in this repository, against
//! LLVM 19: `Display` prints what `llvm-objdump-19 -d --no-show-raw-insn`
//! prints, line for line; decoding then encoding gives the bytes back; and
//! parsing the text gives the instructions back.

mod llvm;

use std::fs;
use std::path::{Path, PathBuf};

use ebpf_skeleton_asm::{Endian, Instructions};
use object::{Architecture, Object, ObjectSection, SectionKind};

/// The `.o` files of the folders that hold the committed objects.
fn committed_objects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut folders = vec![
        root.join("tests/bpf"),
        root.join("ui-tests/objects"),
        root.join("bench/objects"),
    ];
    for example in fs::read_dir(root.join("examples")).expect("examples/") {
        folders.push(example.expect("examples/ entry").path().join("bpf"));
    }
    let mut objects = Vec::new();
    for folder in folders.into_iter().filter(|f| f.is_dir()) {
        for entry in fs::read_dir(&folder).expect("object folder") {
            let path = entry.expect("folder entry").path();
            if path.extension().is_some_and(|e| e == "o") {
                objects.push(path);
            }
        }
    }
    objects.sort();
    objects
}

#[test]
fn every_committed_program_matches_llvm_objdump() {
    let mut checked = 0;
    let mut programs = 0;
    let mut mismatches = Vec::new();
    for path in committed_objects() {
        let bytes = fs::read(&path).expect("read object");
        // The non-BPF objects are the compile-error tests' bad inputs.
        let Ok(file) = object::File::parse(&*bytes) else {
            eprintln!("skipped {}: not an ELF object", path.display());
            continue;
        };
        if file.architecture() != Architecture::Bpf {
            eprintln!("skipped {}: not eBPF", path.display());
            continue;
        }
        let endian = if file.is_little_endian() {
            Endian::Little
        } else {
            Endian::Big
        };
        let objdump = llvm::objdump(&path, &[]);
        for section in file.sections().filter(|s| s.kind() == SectionKind::Text) {
            let name = section.name().expect("section name");
            let code = section.data().expect("section data");
            if code.is_empty() {
                continue;
            }
            let context = format!("{} section {name}", path.display());
            let program = Instructions::decode_endian(code, endian)
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            program
                .check_jumps()
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(
                program.encode_endian(endian),
                code,
                "{context}: decode then encode"
            );
            let text = program.to_string();
            let parsed: Instructions = text
                .parse()
                .unwrap_or_else(|e| panic!("{context}: parse(display): {e}"));
            assert_eq!(parsed, program, "{context}: parse(display)");

            let expected = objdump
                .get(name)
                .unwrap_or_else(|| panic!("{context}: llvm-objdump printed no such section"));
            let mut slot = 0;
            let ours: Vec<(usize, String)> = program
                .iter()
                .map(|insn| {
                    let line = (slot, llvm_form(&insn.to_string()));
                    slot += insn.slot_count();
                    line
                })
                .collect();
            assert_eq!(ours.len(), expected.len(), "{context}: instruction count");
            for (ours, theirs) in ours.iter().zip(expected) {
                if ours != theirs {
                    mismatches.push(format!("{context}: ours {ours:?}, llvm {theirs:?}"));
                }
            }
            checked += program.len();
            programs += 1;
        }
    }
    eprintln!(
        "checked {checked} instructions of {programs} program sections against llvm-objdump-19"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // About 8,270 today: losing an object folder or most sections fails.
    assert!(checked > 8_000, "only {checked} instructions found");
}

/// Our text as LLVM 19 prints it: LLVM prints a call to a subprogram (and
/// an object's kfunc calls, which clang emits as such calls for libbpf to
/// rewrite) as a helper call of that number, `call -0x1`, where this crate
/// keeps the kind apart, `call pc-0x1`.
fn llvm_form(ours: &str) -> String {
    match ours.strip_prefix("call pc") {
        Some(offset) => format!("call {}", offset.trim_start_matches('+')),
        None => ours.to_owned(),
    }
}
