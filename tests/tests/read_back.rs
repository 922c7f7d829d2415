//! Programs read back, for every program of every object in this
//! repository: before load, the instructions of the object file with each
//! relocation point named (checked against `llvm-objdump -dr`); after
//! load, the instructions as loaded, whose computed tag is the kernel's,
//! and the kernel's translation, checked against `bpftool prog dump
//! xlated` slot by slot.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use ebpf_skeleton::asm::{Call, Op, Pseudo, ReferenceKind, Translated, TranslatedInstructions};
use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::{tag_hash, Array, Error, Object, OpenObject, Program};

/// Every object file of the repository's tests and examples.
fn objects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut objects = Vec::new();
    for dir in ["tests/bpf", "examples/execsnoop/bpf"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".bpf.o") {
                objects.push(path);
            }
        }
    }
    objects.sort();
    assert!(objects.len() >= 20, "{objects:?}");
    objects
}

fn file_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (./x test installs it): {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

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
    for path in objects() {
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

/// An object loaded with every program this kernel takes, and the
/// programs it refused (name and errno).
struct Loaded {
    path: PathBuf,
    object: Object,
    refused: Vec<(String, i32)>,
}

/// Loads `path`, turning off each program the kernel refuses and loading
/// again; settings the test objects need are made as their own tests make
/// them.
fn load(path: &Path) -> Loaded {
    let mut refused: Vec<(String, i32)> = Vec::new();
    loop {
        let mut open = OpenObject::from_file(path).unwrap();
        if file_name(path) == "settings.bpf.o" {
            let mut stackmap = open.map_spec("stackmap").unwrap();
            stackmap.value_size = 127 * 8;
            open.apply_map(&stackmap).unwrap();
            let mut outer = open.map_spec("outer").unwrap();
            outer
                .set_inner_map(&Array::<u64>::create("inner", 1).unwrap())
                .unwrap();
            open.apply_map(&outer).unwrap();
        }
        if file_name(path) == "sleepable.bpf.o" {
            let mut sleepy = open.program_spec("sleepy").unwrap();
            sleepy.flags |= sys::BPF_F_SLEEPABLE;
            open.apply_program(&sleepy).unwrap();
        }
        // Targets chosen at run time, as tests/tracing.rs chooses them.
        let targets: &[(&str, &str)] = match file_name(path) {
            "tp_btf_cookie.bpf.o" => &[("on_tp_btf", "sys_enter")],
            "trampolines.bpf.o" => &[
                ("on_fentry", "__x64_sys_getpgid"),
                ("on_fexit", "__x64_sys_getpgid"),
                ("on_fmod_ret", "security_file_open"),
                ("on_lsm", "file_open"),
            ],
            _ => &[],
        };
        for (program, target) in targets {
            let mut spec = open.program_spec(program).unwrap();
            spec.set_attach_function(*target);
            open.apply_program(&spec).unwrap();
        }
        for (name, _) in &refused {
            let mut spec = open.program_spec(name).unwrap();
            spec.autoload = false;
            open.apply_program(&spec).unwrap();
        }
        match open.load() {
            Ok(object) => {
                return Loaded {
                    path: path.to_owned(),
                    object,
                    refused,
                }
            }
            Err(Error::ProgramLoad {
                program, source, ..
            }) => refused.push((program, source.raw_os_error().unwrap_or(0))),
            Err(err) => panic!("{}: {err}", path.display()),
        }
    }
}

/// What this kernel refuses of the test objects, and why: lockdown refuses
/// tracing trampolines, LSM programs and map iterators; typed ksyms need a kallsyms that
/// lists variables; lirc_mode2 programs need CONFIG_BPF_LIRC_MODE2; a
/// freplace program needs its target program, which its test loads first;
/// one program is made to be rejected.
fn expected_refusals() -> Vec<(&'static str, &'static str, i32)> {
    let mut expected = vec![
        ("rejected.bpf.o", "unchecked_lookup", libc::EACCES),
        ("freplace.bpf.o", "new_decide", libc::EINVAL),
    ];
    if !ebpf_skeleton_tests::kconfig::enabled("BPF_LIRC_MODE2") {
        expected.push(("lirc.bpf.o", "decode", libc::EINVAL));
    }
    let lockdown = std::fs::read_to_string("/sys/kernel/security/lockdown")
        .is_ok_and(|l| !l.contains("[none]"));
    if lockdown {
        expected.extend([
            ("autoattach.bpf.o", "each_elem", libc::EPERM),
            ("iters.bpf.o", "dump_elem", libc::EPERM),
            ("inode_storage.bpf.o", "file_open", libc::EPERM),
            ("trampoline.bpf.o", "on_fentry", libc::EPERM),
            ("trampoline.bpf.o", "on_fexit", libc::EPERM),
            ("trampoline.bpf.o", "on_file_open", libc::EPERM),
            ("lsm_cgroup.bpf.o", "on_bind", libc::EPERM),
            ("trampolines.bpf.o", "on_fentry", libc::EPERM),
            ("trampolines.bpf.o", "on_fexit", libc::EPERM),
            ("trampolines.bpf.o", "on_fmod_ret", libc::EPERM),
            ("trampolines.bpf.o", "on_lsm", libc::EPERM),
        ]);
    }
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
    if !kallsyms.contains(" runqueues\n") {
        expected.push(("kfuncs.bpf.o", "on_getppid_percpu", libc::ENOENT));
    }
    expected.sort();
    expected
}

/// Whether this kernel can load the object at all: `sched_ext.bpf.o` needs
/// a kernel with sched_ext (its ops type in the kernel's BTF); its own test,
/// `sched_ext.rs`, asserts the refusal elsewhere.
fn loadable(path: &Path) -> bool {
    file_name(path) != "sched_ext.bpf.o" || Path::new("/sys/kernel/sched_ext").exists()
}

fn load_all() -> Vec<Loaded> {
    let loaded: Vec<Loaded> = objects()
        .iter()
        .filter(|path| loadable(path))
        .map(|path| load(path))
        .collect();
    let mut refused: Vec<(&str, &str, i32)> = loaded
        .iter()
        .flat_map(|l| {
            l.refused
                .iter()
                .map(|(name, errno)| (file_name(&l.path), name.as_str(), *errno))
        })
        .collect();
    refused.sort();
    assert_eq!(refused, expected_refusals());
    loaded
}

/// How many instructions the object file holds of `program`.
fn object_instructions(loaded: &Loaded, program: &Program) -> usize {
    let object = OpenObject::from_file(&loaded.path).unwrap();
    object
        .program_spec(program.name())
        .unwrap()
        .instructions()
        .len()
}

fn loaded_programs(loaded: &Loaded) -> impl Iterator<Item = Program> + '_ {
    loaded
        .object
        .programs()
        .into_iter()
        .filter(Program::is_loaded)
}

#[test]
fn the_computed_tag_of_every_loaded_program_is_the_kernels() {
    let hash = tag_hash().unwrap();
    let mut checked = 0;
    for loaded in load_all() {
        for program in loaded_programs(&loaded) {
            let instructions = program.instructions().unwrap();
            let info = program.info().unwrap();
            assert!(
                instructions.len() >= object_instructions(&loaded, &program),
                "{}: libbpf's instructions hold the object's",
                program.name()
            );
            assert_eq!(
                instructions.tag(hash).0,
                info.tag,
                "{}: {}",
                file_name(&loaded.path),
                program.name()
            );
            checked += 1;
        }
    }
    println!("{checked} programs' tags computed as the kernel computed them");
    assert!(checked > 80, "{checked}");
}

/// One instruction of `bpftool prog dump xlated ... opcodes`.
#[derive(Debug)]
struct Dumped {
    slot: usize,
    opcode: u8,
    text: String,
    bytes: Vec<u8>,
}

fn bpftool_xlated(id: u32) -> Vec<Dumped> {
    let text = run(
        "bpftool",
        &["prog", "dump", "xlated", "id", &id.to_string(), "opcodes"],
    );
    let mut dumped: Vec<Dumped> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        // `  12: (bf) r3 = r10`, then `       bf a3 00 00 00 00 00 00`
        if let Some((slot, rest)) = trimmed.split_once(": (") {
            if let Ok(slot) = slot.parse() {
                let (opcode, text) = rest.split_once(") ").unwrap();
                dumped.push(Dumped {
                    slot,
                    opcode: u8::from_str_radix(opcode, 16).unwrap(),
                    text: text.to_owned(),
                    bytes: Vec::new(),
                });
                continue;
            }
        }
        let hex: Option<Vec<u8>> = trimmed
            .split(' ')
            .map(|b| {
                (b.len() == 2)
                    .then(|| u8::from_str_radix(b, 16).ok())
                    .flatten()
            })
            .collect();
        if let (Some(bytes), Some(last)) = (hex, dumped.last_mut()) {
            if last.bytes.is_empty() && !bytes.is_empty() {
                last.bytes = bytes;
            }
        }
    }
    dumped
}

/// Checks a translation against bpftool's dump of the same program: the
/// same units at the same slots with the same bytes, maps and helpers
/// named as bpftool names them.
fn check_against_bpftool(what: &str, translated: &TranslatedInstructions, id: u32) {
    let dumped = bpftool_xlated(id);
    assert_eq!(translated.len(), dumped.len(), "{what}");
    let encoded = translated.encode();
    let mut slot = 0;
    for (index, (unit, dumped)) in translated.iter().zip(&dumped).enumerate() {
        let bytes = encoded[slot * 8..(slot + unit.slot_count()) * 8].to_vec();
        assert_eq!(
            (slot, unit.opcode(), &bytes),
            (dumped.slot, dumped.opcode, &dumped.bytes),
            "{what}: {dumped:?}"
        );
        let name = translated.name(index);
        if let Some(id) = dumped.text.split("map[id:").nth(1) {
            let id: i32 = id.split(']').next().unwrap().parse().unwrap();
            let Translated::Instruction(instruction) = unit else {
                panic!("{what}: {dumped:?}");
            };
            let Op::LoadPseudo { imm, .. } = instruction.op() else {
                panic!("{what}: {dumped:?}");
            };
            assert_eq!(*imm, id, "{what}");
            assert!(name.is_some(), "{what}: map {id} unnamed");
        }
        if let (Translated::Instruction(i), Some(called)) =
            (unit, dumped.text.strip_prefix("call "))
        {
            if matches!(i.op(), Op::Call(Call::Helper(_))) && called.contains('#') {
                let helper = called.split('#').next().unwrap();
                assert_eq!(name, Some(helper), "{what}: {dumped:?}");
            }
        }
        slot += unit.slot_count();
    }
}

#[test]
fn every_translation_decodes_as_bpftool_dumps_it() {
    let mut checked = (0, 0);
    let mut shown = false;
    for loaded in load_all() {
        for program in loaded_programs(&loaded) {
            let what = format!("{}: {}", file_name(&loaded.path), program.name());
            let translated = program.translated_instructions().unwrap();
            let id = program.id().unwrap();
            if !shown && program.name() == "ring_prog" {
                println!("{what}, translated:\n{translated}");
                println!(
                    "bpftool:\n{}",
                    run(
                        "bpftool",
                        &["prog", "dump", "xlated", "id", &id.to_string()]
                    )
                );
                shown = true;
            }
            check_against_bpftool(&what, &translated, id);
            assert_eq!(
                translated.slot_count() * 8,
                program.info().unwrap().translated_size as usize,
                "{what}"
            );
            checked.0 += 1;
            checked.1 += translated.len();
        }
    }
    assert!(shown);
    println!(
        "{} programs, {} translated instructions as bpftool dumps them",
        checked.0, checked.1
    );
    assert!(checked.0 > 80, "{checked:?}");
}
