//! Programs read back after load, for every program of every object in
//! this repository: the instructions as loaded, whose computed tag is the
//! kernel's, and the kernel's translation, checked against `bpftool prog
//! dump xlated` slot by slot. (Before load: relocation_names.rs.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use ebpf_skeleton::asm::{Call, Op, Translated, TranslatedInstructions};
use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::{tag_hash, Array, Error, Object, OpenObject, Program};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::objects::{self, file_name, run_tool as run};

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

/// A program of an object: (object file, program).
type ObjectProgram = (&'static str, &'static str);

/// What this kernel refuses of the test objects, and why: lockdown refuses
/// tracing trampolines, LSM programs and map iterators; typed ksyms need a kallsyms that
/// lists variables; lirc_mode2 programs need CONFIG_BPF_LIRC_MODE2; a
/// freplace program needs its target program, which its test loads first;
/// one program is made to be rejected; an XDP program that reads receive
/// metadata loads only bound to a device; and an older kernel refuses the
/// programs of what it does not have yet (each program's own test asserts
/// its refusal there).
fn expected_refusals() -> Vec<(&'static str, &'static str, i32)> {
    let mut expected = vec![
        ("rejected.bpf.o", "unchecked_lookup", libc::EACCES),
        ("freplace.bpf.o", "new_decide", libc::EINVAL),
    ];
    let lacks = |major, minor| !kernel().at_least(major, minor);
    // The release that brought what each list of programs needs.
    let since: &[((u32, u32), &[ObjectProgram])] = &[
        // bpf_get_attach_cookie for probes and tracepoints
        (
            (5, 15),
            &[
                ("probes.bpf.o", "on_kprobe"),
                ("probes.bpf.o", "on_kretprobe"),
                ("probes.bpf.o", "on_kprobe_multi"),
                ("probes.bpf.o", "on_kretprobe_multi"),
                ("probes.bpf.o", "on_uprobe"),
                ("probes.bpf.o", "on_uretprobe"),
                ("probes.bpf.o", "on_uprobe_multi"),
                ("probes.bpf.o", "on_uretprobe_multi"),
                ("tracing.bpf.o", "on_tp"),
            ],
        ),
        // bpf_loop
        (
            (5, 17),
            &[
                ("bench.bpf.o", "fill_ringbuf"),
                ("bench.bpf.o", "fill_perf"),
                ("maps.bpf.o", "big_prog"),
                ("perf.bpf.o", "produce"),
                ("ringbuf.bpf.o", "produce"),
                ("ringbuf.bpf.o", "produce_discards"),
            ],
        ),
        // attach cookies of trampolines
        (
            (5, 19),
            &[
                ("trampolines.bpf.o", "on_fentry"),
                ("trampolines.bpf.o", "on_fexit"),
            ],
        ),
        // sleepable uprobes
        ((6, 0), &[("sleepable.bpf.o", "sleepy")]),
        // thread ids in cgroup hooks of no socket
        (
            (6, 1),
            &[
                ("cgroup_hooks.bpf.o", "on_sysctl"),
                ("cgroup_hooks.bpf.o", "on_getsockopt"),
                ("cgroup_hooks.bpf.o", "on_setsockopt"),
                ("cgroup_hooks.bpf.o", "on_device"),
            ],
        ),
        // netfilter programs
        ((6, 4), &[("netfilter.bpf.o", "filter")]),
        // cgroup hooks of unix sockets
        (
            (6, 7),
            &[
                ("cgroup_unix.bpf.o", "on_connect_unix"),
                ("cgroup_unix.bpf.o", "on_sendmsg_unix"),
                ("cgroup_unix.bpf.o", "on_recvmsg_unix"),
                ("cgroup_unix.bpf.o", "on_getpeername_unix"),
                ("cgroup_unix.bpf.o", "on_getsockname_unix"),
            ],
        ),
        // attach cookies of raw and BTF tracepoints, the session kfunc
        (
            (6, 10),
            &[
                ("raw_tp_cookie.bpf.o", "on_raw"),
                ("tp_btf_cookie.bpf.o", "on_tp_btf"),
                ("probe_session.bpf.o", "on_session"),
            ],
        ),
    ];
    for &((major, minor), programs) in since {
        if lacks(major, minor) {
            expected.extend(programs.iter().map(|&(o, p)| (o, p, libc::EINVAL)));
        }
    }
    // The cgroup iterator (6.1): libbpf finds no `bpf_iter_cgroup` type in
    // the kernel's BTF.
    if lacks(6, 1) {
        expected.push(("iter_cgroup.bpf.o", "dump_cgroup", libc::ESRCH));
    }
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
    } else if lacks(6, 0) {
        // LSM programs per cgroup (6.0).
        expected.push(("lsm_cgroup.bpf.o", "on_bind", libc::EINVAL));
    }
    // Unbound, an XDP program may not call the receive-metadata kfuncs
    // (tests/xdp_hints.rs loads it bound to a device).
    if kernel().has(Feature::XdpMetadata) {
        expected.push(("xdp_hints.bpf.o", "xdp_hash", libc::EINVAL));
    }
    // 7.2's verifier poisons a bloom filter's stack values
    // (bloom_stack.bpf.c, tests/maps.rs).
    if kernel().at_least(7, 2) {
        expected.push(("bloom_stack.bpf.o", "bloom_stack_prog", libc::EACCES));
    }
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
    if !kallsyms.contains(" runqueues\n") {
        expected.push(("kfuncs.bpf.o", "on_getppid_percpu", libc::ENOENT));
    }
    expected.sort();
    expected
}

/// Whether this kernel can load the object at all: `sched_ext.bpf.o` needs
/// a kernel with sched_ext (its ops type in the kernel's BTF); the others
/// here a kind of map this kernel may not create (or, `kfuncs.bpf.o`,
/// kfuncs it may not have). Their own tests assert the refusals.
fn loadable(path: &Path) -> bool {
    let needs = match file_name(path) {
        "sched_ext.bpf.o" => return Path::new("/sys/kernel/sched_ext").exists(),
        "task_storage.bpf.o" => Feature::TaskStorage,
        "bloom.bpf.o" | "bloom_stack.bpf.o" | "everything.bpf.o" => Feature::BloomFilter,
        "user_ringbuf.bpf.o" => Feature::UserRingbuf,
        "cgrp_storage.bpf.o" => Feature::CgrpStorage,
        "kfuncs.bpf.o" => Feature::CpumaskKfuncs,
        "xdp_hints.bpf.o" => Feature::XdpMetadata,
        "tcp_cc.bpf.o" | "tcp_cc_kfuncs.bpf.o" => Feature::StructOpsLink,
        "arena.bpf.o" => Feature::Arena,
        _ => return true,
    };
    kernel().has(needs)
}

/// Every object loaded once for the tests of this file (loads are slow in
/// an emulated guest), with the refusals checked.
fn load_all() -> &'static [Loaded] {
    static LOADED: OnceLock<Vec<Loaded>> = OnceLock::new();
    LOADED.get_or_init(|| {
        let loaded: Vec<Loaded> = objects::all()
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
    })
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
        for program in loaded_programs(loaded) {
            let instructions = program.instructions().unwrap();
            let info = program.info().unwrap();
            assert!(
                instructions.len() >= object_instructions(loaded, &program),
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

/// The lines of `kallsyms` bpftool looks up when it dumps `programs`:
/// `__bpf_call_base`, each helper or kfunc call's target (at that base plus
/// the call's immediate) and the BPF JIT's own symbols, which name
/// BPF-to-BPF calls.
///
/// bpftool reads all of /proc/kallsyms again for every program it dumps; in
/// an emulated guest that is seconds per program, so it is given only these
/// lines (`every_translation_decodes_as_bpftool_dumps_it` checks that a dump
/// under them equals one under the whole file).
fn kallsyms_for(programs: &[&TranslatedInstructions], kallsyms: &str) -> String {
    let address = |line: &str| u64::from_str_radix(line.split(' ').next().unwrap_or(""), 16).ok();
    let base = kallsyms
        .lines()
        .find(|line| line.ends_with(" __bpf_call_base"))
        .and_then(address)
        .expect("/proc/kallsyms names __bpf_call_base");
    let mut targets = std::collections::HashSet::new();
    for program in programs {
        for insn in program.encode().chunks_exact(8) {
            // A call (BPF_JMP | BPF_CALL) that is not BPF-to-BPF (src 1).
            if insn[0] == 0x85 && insn[1] >> 4 != 1 {
                let imm = i32::from_le_bytes(insn[4..8].try_into().unwrap());
                targets.insert(base.wrapping_add_signed(imm.into()));
            }
        }
    }
    kallsyms
        .lines()
        .filter(|line| {
            line.ends_with(" __bpf_call_base")
                || line.ends_with("\t[bpf]")
                || address(line).is_some_and(|a| targets.contains(&a))
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The output of `bpftool batch` running `commands` (a process start costs
/// seconds in a guest), with `kallsyms` as its /proc/kallsyms (bind-mounted
/// over it in a mount namespace of its own).
fn bpftool_batch(commands: &str, kallsyms: &str) -> String {
    let file = std::env::temp_dir().join(format!("read-back-kallsyms-{}", std::process::id()));
    std::fs::write(&file, kallsyms).unwrap();
    let mut child = Command::new("unshare")
        .args(["--mount", "sh", "-c"])
        .arg("mount --bind \"$0\" /proc/kallsyms && exec bpftool batch file -")
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unshare(1) and bpftool (./x test installs them)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(commands.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(out.status.success(), "bpftool batch: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `bpftool prog dump xlated id ID opcodes` of each of `ids`, seeing
/// `kallsyms` as /proc/kallsyms.
fn bpftool_xlated(ids: &[u32], kallsyms: &str) -> Vec<Vec<Dumped>> {
    let commands: String = ids
        .iter()
        .map(|id| format!("prog dump xlated id {id} opcodes\n"))
        .collect();
    let text = bpftool_batch(&commands, kallsyms);
    // Each dump starts again at slot 0.
    let mut programs: Vec<Vec<Dumped>> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        // `  12: (bf) r3 = r10`, then `       bf a3 00 00 00 00 00 00`
        if let Some((slot, rest)) = trimmed.split_once(": (") {
            if let Ok(slot) = slot.parse() {
                let (opcode, text) = rest.split_once(") ").unwrap();
                if slot == 0 {
                    programs.push(Vec::new());
                }
                programs.last_mut().unwrap().push(Dumped {
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
        if let (Some(bytes), Some(last)) = (hex, programs.last_mut().and_then(|p| p.last_mut())) {
            if last.bytes.is_empty() && !bytes.is_empty() {
                last.bytes = bytes;
            }
        }
    }
    assert_eq!(programs.len(), ids.len(), "one dump per program:\n{text}");
    programs
}

/// Checks a translation against bpftool's dump of the same program: the
/// same units at the same slots with the same bytes, maps and helpers
/// named as bpftool names them.
fn check_against_bpftool(what: &str, translated: &TranslatedInstructions, dumped: &[Dumped]) {
    assert_eq!(translated.len(), dumped.len(), "{what}");
    let encoded = translated.encode();
    let mut slot = 0;
    for (index, (unit, dumped)) in translated.iter().zip(dumped).enumerate() {
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
    let mut programs = Vec::new();
    for loaded in load_all() {
        for program in loaded_programs(loaded) {
            let what = format!("{}: {}", file_name(&loaded.path), program.name());
            let translated = program.translated_instructions().unwrap();
            assert_eq!(
                translated.slot_count() * 8,
                program.info().unwrap().translated_size as usize,
                "{what}"
            );
            programs.push((what, translated, program.id().unwrap()));
        }
    }
    let ids: Vec<u32> = programs.iter().map(|(_, _, id)| *id).collect();
    let translations: Vec<_> = programs.iter().map(|(_, t, _)| t).collect();
    let kallsyms = kallsyms_for(
        &translations,
        &std::fs::read_to_string("/proc/kallsyms").unwrap(),
    );
    let mut checked = (0, 0);
    let mut shown = false;
    for ((what, translated, id), dumped) in programs.iter().zip(bpftool_xlated(&ids, &kallsyms)) {
        if !shown && what.ends_with(": ring_prog") {
            let id = id.to_string();
            let whole = run("bpftool", &["prog", "dump", "xlated", "id", &id, "opcodes"]);
            let command = format!("prog dump xlated id {id} opcodes\n");
            let batch = bpftool_batch(&command, &kallsyms);
            let dumped = batch.strip_suffix("processed 1 commands\n");
            assert_eq!(dumped, Some(whole.as_str()), "{what}");
            assert!(whole.contains("call bpf_ringbuf_"), "{whole}");
            println!("{what}, translated:\n{translated}");
            println!("bpftool:\n{whole}");
            shown = true;
        }
        check_against_bpftool(what, translated, &dumped);
        checked.0 += 1;
        checked.1 += translated.len();
    }
    assert!(shown);
    println!(
        "{} programs, {} translated instructions as bpftool dumps them",
        checked.0, checked.1
    );
    assert!(checked.0 > 80, "{checked:?}");
}
