//! Programs read back before load, for every program of every object in
//! this repository: the instructions of the object file with each
//! relocation point named, checked against `llvm-objdump -dr`. Never loads:
//! it runs on the host only (tests/vm/run.sh), as LLVM's tools take
//! minutes to start in an emulated guest.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ebpf_skeleton::asm::{Call, Op, Pseudo, ReferenceKind};
use ebpf_skeleton::OpenObject;
use ebpf_skeleton_tests::objects::{self, file_name, run_tool as run};

/// What `llvm-objdump -t` says of a symbol: its section (`*UND*` for an
/// extern) and whether it is a function, a variable or a section.
#[derive(Debug)]
struct Symbol {
    section: String,
    kind: char,
}

fn symbols(path: &Path) -> HashMap<String, Symbol> {
    let text = run("llvm-objdump-19", &["-t", path.to_str().unwrap()]);
    let mut symbols = HashMap::new();
    // `0000000000000000 g     F xdp\t0000000000000010 name`
    for line in text.lines().filter(|l| l.len() > 25 && l.contains('\t')) {
        let flags = &line[17..24];
        let (section, rest) = line[25..].split_once('\t').unwrap();
        // The name is the last word (after `.hidden`, for hidden symbols).
        let name = rest.split_whitespace().last().unwrap_or("");
        let kind = flags.chars().last().unwrap();
        symbols.insert(
            name.to_owned(),
            Symbol {
                section: section.trim().to_owned(),
                kind,
            },
        );
    }
    symbols
}

/// The relocations of every function, from `llvm-objdump -dr`: by section
/// and function, the slot (from the function's start) of each relocated
/// instruction and the symbol it names.
fn relocations(path: &Path) -> HashMap<(String, String), BTreeMap<usize, String>> {
    let text = run(
        "llvm-objdump-19",
        &["-dr", "--no-show-raw-insn", path.to_str().unwrap()],
    );
    let mut all = HashMap::new();
    let (mut section, mut function, mut start) = (String::new(), String::new(), 0usize);
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Disassembly of section ") {
            section = name.trim_end_matches(':').to_owned();
        } else if let Some(label) = line.strip_suffix(">:") {
            let (address, name) = label.split_once(" <").unwrap();
            function = name.to_owned();
            start = usize::from_str_radix(address, 16).unwrap() / 8;
            all.entry((section.clone(), function.clone()))
                .or_insert_with(BTreeMap::new);
        } else if line.contains("CO-RE <") {
            // CO-RE relocations (of .BTF.ext) are not named in
            // `ProgramSpec::instructions`; libbpf applies them at load.
            continue;
        } else if let Some(relocation) = line.strip_prefix("\t\t") {
            // `0000000000000040:  R_BPF_64_64\tbig`
            let (offset, rest) = relocation.split_once(':').unwrap();
            let symbol = rest.split('\t').nth(1).unwrap_or("").to_owned();
            let slot = usize::from_str_radix(offset, 16).unwrap() / 8 - start;
            all.get_mut(&(section.clone(), function.clone()))
                .unwrap()
                .insert(slot, symbol);
        }
    }
    all
}

#[test]
fn every_relocation_point_is_named_as_llvm_objdump_shows_it() {
    let mut checked = (0, 0);
    for path in objects::all() {
        let symbols = symbols(&path);
        let expected = relocations(&path);
        let object = OpenObject::from_file(&path).unwrap();
        for name in object.program_names() {
            let spec = object.program_spec(&name).unwrap();
            let instructions = spec.instructions();
            // libbpf names a `?` section (autoload off) without its `?`.
            let want = expected
                .get(&(spec.section().to_owned(), name.clone()))
                .or_else(|| expected.get(&(format!("?{}", spec.section()), name.clone())))
                .unwrap_or_else(|| panic!("llvm-objdump shows no function `{name}`"));
            // Ours by slot, as llvm-objdump counts.
            let mut slot = 0;
            let mut ours = BTreeMap::new();
            for (index, instruction) in instructions.iter().enumerate() {
                if let Some(reference) = instructions.reference(index) {
                    ours.insert(slot, (reference.to_owned(), *instruction.op()));
                }
                slot += instruction.slot_count();
            }
            let what = format!("{}: {name}", file_name(&path));
            assert_eq!(
                ours.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "{what}: the relocated slots\n{instructions}"
            );
            for (slot, (ours, op)) in &ours {
                let symbol = &want[slot];
                let known = &symbols[symbol];
                match *op {
                    // A map by its definition's name.
                    Op::LoadPseudo {
                        pseudo: Pseudo::MapFd,
                        ..
                    } => assert_eq!((ours, known.section.as_str()), (symbol, ".maps"), "{what}"),
                    // A variable or constant by its section.
                    Op::LoadPseudo {
                        pseudo: Pseudo::MapValue,
                        ..
                    } => assert_eq!(ours, &known.section, "{what}: {symbol}"),
                    // An extern by its own name.
                    Op::LoadPseudo {
                        pseudo: Pseudo::BtfId,
                        ..
                    }
                    | Op::Call(Call::Kfunc { .. }) => {
                        assert_eq!((ours, known.section.as_str()), (symbol, "*UND*"), "{what}")
                    }
                    // A function by its name (llvm-objdump may name its
                    // section's symbol instead).
                    Op::LoadPseudo {
                        pseudo: Pseudo::Func,
                        ..
                    }
                    | Op::Call(Call::Local(_)) => {
                        let function = &symbols[ours];
                        assert_eq!(function.kind, 'F', "{what}: {ours}");
                        assert!(
                            symbol == ours || symbol == &function.section,
                            "{what}: {ours} for {symbol}"
                        );
                    }
                    op => panic!("{what}: {op:?} refers to {ours}"),
                }
                assert!(ReferenceKind::of(op).is_some());
            }
            checked.0 += 1;
            checked.1 += ours.len();
        }
    }
    println!("{} programs, {} relocations named", checked.0, checked.1);
    assert!(checked.0 > 80 && checked.1 > 250, "{checked:?}");
}

#[test]
fn a_specs_instructions_print_their_references() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/counter.bpf.o");
    let object = OpenObject::from_file(&path).unwrap();
    let spec = object.program_spec("count_getppid").unwrap();
    let text = spec.instructions().to_string();
    println!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"r1 = map(counts) ll"), "{text}");
    let kinds: Vec<(ReferenceKind, &str)> = spec
        .instructions()
        .references()
        .map(|(_, kind, name)| (kind, name))
        .collect();
    assert!(
        kinds.iter().all(|k| *k == (ReferenceKind::Map, "counts")) && kinds.len() >= 2,
        "{kinds:?}"
    );
}
