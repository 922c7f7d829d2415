//! Everything libbpf accepts between open and load, set from Rust, each
//! checked where the kernel shows it: map info, program info, a load that
//! now works (or fails as it must), an attach, a value the program read.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

use ebpf_skeleton::asm::Instructions;
use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::link::{LinkDetail, LinkType, Uprobe};
use ebpf_skeleton::{
    ebpf_skeleton, AttachType, Error, LoadOptions, Map, MapSpec, MapType, Objects, OpenObject,
    OpenOptions, Program, ProgramBuilder, ProgramType, Section, StackTraceMap, UpdateFlags,
};
use ebpf_skeleton_tests::kernel::{assert_map_refused, assert_tcx_refused, kernel, Feature};
use ebpf_skeleton_tests::{getppid_n, run, tid};

ebpf_skeleton!("../bpf/settings.bpf.o");
ebpf_skeleton!("../bpf/sleepable.bpf.o");
ebpf_skeleton!("../bpf/bloom.bpf.o");

/// Program info, as the kernel has it.
fn prog_info(program: &Program) -> sys::bpf_prog_info {
    use std::os::fd::AsRawFd;
    let mut info = sys::bpf_prog_info::default();
    let mut len = size_of::<sys::bpf_prog_info>() as u32;
    // SAFETY: `info` is writable for `len` bytes.
    let ret = unsafe {
        sys::bpf_prog_get_info_by_fd(program.fd().unwrap().as_raw_fd(), &mut info, &mut len)
    };
    assert_eq!(ret, 0);
    info
}

/// Specs of settings.bpf.o whose stack map has a value size and whose map
/// of maps has an inner map, which every test but the two about those
/// needs.
fn specs() -> settings::Specs {
    let mut specs = settings::Specs::new().unwrap();
    specs.maps.stackmap.value_size = 127 * 8;
    specs.maps.outer.set_inner_map(&new_array(8)).unwrap();
    specs
}

fn bpffs_dir(what: &str) -> PathBuf {
    let dir = PathBuf::from(format!(
        "/sys/fs/bpf/ebpf-skeleton-settings-{what}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_stack_map_loads_once_its_value_size_is_set() {
    // As bcc's capable, futexctn, memleak, offcputime, profile and
    // wakeuptime: the C front-end sets the value size before load.
    let mut specs = settings::Specs::new().unwrap();
    specs.maps.outer.set_inner_map(&new_array(8)).unwrap();
    let err = specs.load().unwrap_err();
    assert!(matches!(err, Error::Load { .. }), "{err}");
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert!(err.to_string().contains("stackmap"), "{err}");

    let objs = self::specs().load().unwrap();
    assert_eq!(objs.maps.stackmap.info().value_size, 127 * 8);
    run(&objs.programs.record_stack, &[]);
    let id = objs.data.stack_id.get();
    assert!(id >= 0, "bpf_get_stackid: {id}");
    let frames = objs.maps.stackmap.get(id as u32).unwrap().expect("a stack");
    assert!(!frames.is_empty() && frames[0] != 0, "{frames:?}");
}

#[test]
fn map_sizes_and_flags_reach_the_kernel() {
    let mut specs = specs();
    specs.maps.sized.max_entries = 100;
    specs.maps.sized.flags |= sys::BPF_F_NO_PREALLOC;
    specs.maps.numa.flags |= sys::BPF_F_NUMA_NODE;
    specs.maps.numa.numa_node = 0;
    let objs = specs.load().unwrap();
    let sized = objs.maps.sized.info();
    assert_eq!(
        (sized.max_entries, sized.flags & sys::BPF_F_NO_PREALLOC),
        (100, sys::BPF_F_NO_PREALLOC)
    );
    assert_eq!(
        objs.maps.numa.info().flags & sys::BPF_F_NUMA_NODE,
        sys::BPF_F_NUMA_NODE
    );

    // A NUMA node the machine lacks is refused by the kernel, which reads
    // the node because BPF_F_NUMA_NODE was added with it (without the flag
    // the kernel ignores the node and creates the map).
    let mut specs = self::specs();
    assert_eq!(specs.maps.numa.flags & sys::BPF_F_NUMA_NODE, 0);
    specs.maps.numa.numa_node = 4000;
    let loaded = specs.load();
    if let Err(err) = &loaded {
        assert!(err.to_string().contains("map 'numa'"), "{err}");
    }
    assert_map_refused(loaded, "settings", "numa");

    // The same of a map of no object.
    let mut spec = MapSpec::new("numa_alone", MapType::ARRAY, 4, 8, 1);
    spec.numa_node = 4000;
    let err = spec.create().unwrap_err();
    let Error::MapCreate { map, problem, .. } = &err else {
        panic!("expected a map creation error, got {err:?}");
    };
    assert_eq!(map, "numa_alone");
    assert!(problem.contains(", NUMA node 4000"), "{err}");
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    spec.numa_node = 0;
    let alone = spec.create().unwrap();
    assert_eq!(
        alone.info().flags & sys::BPF_F_NUMA_NODE,
        0,
        "node 0 as read"
    );
}

/// `settings` opened with the stack map's value size and the map of
/// maps' inner map set, as every load of it needs.
fn open_settings() -> OpenObject {
    let mut open = OpenObject::from_static("settings", settings::bytes()).unwrap();
    let mut stackmap = open.map_spec("stackmap").unwrap();
    stackmap.value_size = 127 * 8;
    open.apply_map(&stackmap).unwrap();
    let mut outer = open.map_spec("outer").unwrap();
    outer.set_inner_map(&new_array(8)).unwrap();
    open.apply_map(&outer).unwrap();
    open
}

#[test]
fn a_key_size_set_before_load_reaches_the_kernel() {
    let mut open = open_settings();
    let mut spec = open.map_spec("sized").unwrap();
    assert_eq!(spec.key_size, 4, "the C declaration's __u32 key");
    spec.key_size = 8;
    open.apply_map(&spec).unwrap();
    let objs = open.load().unwrap();
    let sized = objs.map("sized").unwrap();
    assert_eq!(sized.info().key_size, 8, "the kernel's map info");
    // The kernel takes 8-byte keys now.
    let key = 0x1_0000_0002u64.to_ne_bytes();
    sized
        .update(&key, &5u64.to_ne_bytes(), UpdateFlags::NO_EXIST)
        .unwrap();
    assert_eq!(
        sized.lookup(&key).unwrap(),
        Some(5u64.to_ne_bytes().to_vec())
    );
    assert_eq!(sized.keys().collect::<Vec<_>>().len(), 1);
    // The BTF key type (a 4-byte __u32) no longer fits: the kernel refused
    // the map with it, and libbpf created it again without BTF.
    let raw = raw_map_info(&sized);
    assert_eq!((raw.btf_key_type_id, raw.btf_value_type_id), (0, 0));

    // A skeleton's typed field (`HashMap<u32, u64>`) checks the kernel's
    // sizes at load and names the map.
    let mut specs = specs();
    specs.maps.sized.key_size = 8;
    let err = specs.load().unwrap_err();
    let Error::Size {
        expected, actual, ..
    } = &err
    else {
        panic!("expected a size error, got {err:?}");
    };
    assert_eq!((*expected, *actual), (8, 4), "{err}");
    assert!(err.to_string().contains("`sized`"), "{err}");
}

/// The kernel's raw map info of `map`.
fn raw_map_info(map: &Map) -> sys::bpf_map_info {
    use std::os::fd::AsRawFd;
    let mut info = sys::bpf_map_info::default();
    let mut len = size_of::<sys::bpf_map_info>() as u32;
    // SAFETY: `info` is writable for `len` bytes.
    let ret = unsafe { sys::bpf_map_get_info_by_fd(map.as_fd().as_raw_fd(), &mut info, &mut len) };
    assert_eq!(ret, 0);
    info
}

#[test]
fn pinned_maps_are_pinned_and_reused() {
    let dir = bpffs_dir("pins");
    let path = dir.join("pinned");
    let options = OpenOptions::new().pin_root(&dir);
    let open = || {
        let mut specs = settings::Specs::new_with(&options).unwrap();
        specs.maps.stackmap.value_size = 127 * 8;
        specs.maps.outer.set_inner_map(&new_array(8)).unwrap();
        specs.maps.pinned.pin_path = Some(path.clone());
        specs
    };
    let first = open().load().unwrap();
    assert!(path.exists(), "pinned at its pin path");
    assert!(
        dir.join("by_name").exists(),
        "pinned by name under the root"
    );
    first.maps.pinned.set(0, &7, UpdateFlags::ANY).unwrap();

    let second = open().load().unwrap();
    assert_eq!(second.maps.pinned.info().id, first.maps.pinned.info().id);
    assert_eq!(second.maps.by_name.info().id, first.maps.by_name.info().id);
    assert_eq!(second.maps.pinned.get(0).unwrap(), Some(7));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_map_of_another_object_is_reused() {
    let first = specs().load().unwrap();
    let mut specs = specs();
    specs.maps.shared.reuse(&first.maps.shared).unwrap();
    let second = specs.load().unwrap();
    assert_eq!(second.maps.shared.info().id, first.maps.shared.info().id);
    first.maps.shared.set(0, &99, UpdateFlags::ANY).unwrap();
    assert_eq!(second.maps.shared.get(0).unwrap(), Some(99));
}

#[test]
fn a_map_of_maps_gets_its_inner_map_from_the_loader() {
    // Without a template libbpf cannot create the outer map.
    let mut specs = settings::Specs::new().unwrap();
    specs.maps.stackmap.value_size = 127 * 8;
    let err = specs.load().unwrap_err();
    assert!(err.to_string().contains("outer"), "{err}");
    let inner = new_array(8);
    let mut specs = settings::Specs::new().unwrap();
    specs.maps.stackmap.value_size = 127 * 8;
    specs.maps.outer.set_inner_map(&inner).unwrap();
    let objs = specs.load().unwrap();
    objs.maps.outer.set(1, &inner).unwrap();
    assert_eq!(objs.maps.outer.get(1).unwrap(), Some(inner.info().id));
}

/// A standalone array of `value_size`-byte values, through the raw call
/// (standalone maps have their own tests).
fn new_array(value_size: u32) -> Map {
    // SAFETY: a plain map creation; NULL options take the defaults.
    let fd = unsafe {
        sys::bpf_map_create(
            sys::BPF_MAP_TYPE_ARRAY,
            c"inner".as_ptr(),
            4,
            value_size,
            4,
            std::ptr::null(),
        )
    };
    assert!(fd >= 0);
    // SAFETY: the kernel just returned this fd.
    Map::from_fd(unsafe { OwnedFd::from_raw_fd(fd) }, "inner").unwrap()
}

#[test]
fn program_type_and_expected_attach_type_reach_the_kernel() {
    let mut specs = specs();
    assert_eq!(specs.programs.retype.program_type, ProgramType::XDP);
    specs.programs.retype.program_type = ProgramType::SOCKET_FILTER;
    specs.programs.classify.expected_attach_type = AttachType::TCX_INGRESS;
    let objs = specs.load().unwrap();
    assert_eq!(
        objs.programs.retype.program_type(),
        ProgramType::SOCKET_FILTER
    );
    assert_eq!(
        prog_info(&objs.programs.retype).type_,
        sys::BPF_PROG_TYPE_SOCKET_FILTER
    );
    let lo = 1;
    if !kernel().has(Feature::Tcx) {
        return assert_tcx_refused(objs.programs.classify.attach_tcx(lo), "classify");
    }
    let link = objs
        .programs
        .classify
        .attach_tcx(lo)
        .expect("tcx with TCX_INGRESS");
    drop(link);

    // Without it, the kernel refuses the attach: libbpf creates the tcx
    // link with the program's expected attach type, which `SEC("tc")`
    // leaves at 0 (BPF_CGROUP_INET_INGRESS, a hook of cgroup skb programs),
    // and the kernel refuses a link to a hook of another program type with
    // EINVAL.
    let objs = self::specs().load().unwrap();
    assert_eq!(
        objs.programs.classify.expected_attach_type(),
        Some(AttachType(0))
    );
    let err = objs.programs.classify.attach_tcx(lo).unwrap_err();
    let Error::Attach {
        program, target, ..
    } = &err
    else {
        panic!("expected an attach error, got {err:?}");
    };
    assert_eq!(program, "classify");
    assert!(target.starts_with("tcx of interface"), "{err}");
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
}

#[test]
fn a_tp_btf_target_is_chosen_at_run_time() {
    let mut specs = specs();
    specs.programs.on_enter.set_attach_function("sys_exit");
    let objs = specs.load().unwrap();
    let link = objs.programs.on_enter.attach().unwrap();
    let before = objs.bss.enters.get();
    getppid_n(10);
    assert!(objs.bss.enters.get() >= before + 10);
    // The link (a raw tracepoint's) names the tracepoint.
    let info = link.info().unwrap();
    assert_eq!(info.link_type, LinkType::RAW_TRACEPOINT);
    assert!(
        matches!(&info.detail, LinkDetail::RawTracepoint { name, .. } if name == "sys_exit"),
        "{:?}",
        info.detail
    );
    drop(link);
    // Program info says what the program was verified against from 6.0
    // (`attach_btf_id`); an older kernel leaves the field out (zero).
    let attach_btf_id = prog_info(&objs.programs.on_enter).attach_btf_id;
    let expected = if kernel().at_least(6, 0) {
        vmlinux_type_id("btf_trace_sys_exit")
    } else {
        0
    };
    assert_eq!(
        attach_btf_id, expected,
        "the kernel attached it to sys_exit"
    );
}

/// The id of the type `name` in the running kernel's BTF.
fn vmlinux_type_id(name: &str) -> u32 {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: libbpf parses the kernel's BTF; it is freed below.
    unsafe {
        let btf = sys::btf__load_vmlinux_btf();
        assert!(!btf.is_null());
        let id = sys::btf__find_by_name(btf, name.as_ptr());
        sys::btf__free(btf);
        assert!(id > 0);
        id as u32
    }
}

#[test]
fn load_flags_reach_the_verifier() {
    let err = sleepable::Objects::load().unwrap_err();
    let Error::ProgramLoad { program, log, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(program, "sleepy");
    // Kernels of the matrix before 6.12 (6.1, 5.10) do not offer the
    // helper to a program that may not sleep; later ones say why.
    let refusal = if kernel().at_least(6, 12) {
        "sleepable"
    } else {
        "unknown func bpf_copy_from_user#148"
    };
    assert!(log.contains(refusal), "{log}");

    let mut specs = sleepable::Specs::new().unwrap();
    specs.programs.sleepy.flags |= sys::BPF_F_SLEEPABLE;
    let loaded = specs.load();
    if !kernel().at_least(6, 0) {
        // Sleepable uprobes are 6.0's: the flag is refused before
        // verification (5.10 says "Only fentry/fexit/fmod_ret and lsm
        // programs can be sleepable").
        let err = loaded.unwrap_err();
        let Error::ProgramLoad { program, log, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(program, "sleepy");
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert!(
            log.starts_with("Only fentry/fexit/fmod_ret")
                && log.contains(" programs can be sleepable\n"),
            "{log}"
        );
        return;
    }
    let objs = loaded.unwrap();
    let value = 0x1234_5678_9abc_def0u64;
    let _link = objs
        .programs
        .sleepy
        .attach_uprobe(
            &Uprobe::entry("/proc/self/exe")
                .function("settings_uprobe_target")
                .pid(std::process::id() as i32),
        )
        .unwrap();
    settings_uprobe_target(&value);
    assert_eq!(objs.bss.copied.get(), value);
}

#[inline(never)]
#[no_mangle]
extern "C" fn settings_uprobe_target(value: &u64) -> u64 {
    std::hint::black_box(*value)
}

#[test]
fn the_verifier_log_of_a_successful_load_when_asked() {
    let mut specs = specs();
    specs.programs.read_globals.log_level = 1;
    let objs = specs.load().unwrap();
    let log = objs
        .programs
        .read_globals
        .verifier_log()
        .expect("a kept log");
    assert!(log.contains("processed "), "{log}");
    assert!(objs.programs.record_stack.verifier_log().is_none());

    // Statistics only (level 4): a few lines of totals (more on newer
    // kernels: 7.x adds one per subprogram), no instruction.
    let mut specs = self::specs();
    specs.programs.read_globals.log_level = 4;
    let objs = specs.load().unwrap();
    let log = objs.programs.read_globals.verifier_log().unwrap();
    assert!(log.contains("processed "), "{log}");
    assert!(
        log.lines()
            .all(|line| !line.starts_with(|c: char| c.is_ascii_digit())),
        "no instruction lines: {log}"
    );
    assert!(!log.contains("R1="), "no instruction states: {log}");
}

#[test]
fn a_log_that_fills_its_buffer_is_reported_cut() {
    let mut specs = specs();
    specs.programs.read_globals.log_level = 1;
    specs.programs.read_globals.log_size = 256;
    let err = specs.load().unwrap_err();
    let Error::ProgramLoad {
        program, truncated, ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!((program.as_str(), *truncated), ("read_globals", true));
    assert_eq!(err.errno(), Some(libc::ENOSPC));
    assert!(
        err.to_string()
            .ends_with("give the load a larger log size to see all of it)"),
        "{err}"
    );
    // libbpf keeps the size an object's program needs to itself.
    let Error::ProgramLoad {
        log_size_needed, ..
    } = &err
    else {
        unreachable!()
    };
    assert_eq!(*log_size_needed, None);

    // A program of no object: from 6.4 the kernel says the size of the
    // whole log (`log_true_size`, its NUL included), which then fits.
    let program: Instructions = format!("{}exit", "r0 = 0x0\n".repeat(40)).parse().unwrap();
    let load = |size: u32| {
        ProgramBuilder::new("long_log", ProgramType::SOCKET_FILTER, program.clone())
            .log_level(1)
            .log_size(size as usize)
            .load()
    };
    let err = load(256).unwrap_err();
    let Error::ProgramLoad {
        truncated,
        log_size_needed,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert!(*truncated, "{err}");
    assert_eq!(err.errno(), Some(libc::ENOSPC), "{err}");
    if !kernel().at_least(6, 4) {
        // Before 6.4 the kernel knows no such field and leaves it zero.
        assert_eq!(*log_size_needed, None, "{err}");
        assert!(err
            .to_string()
            .ends_with("give the load a larger log size to see all of it)"));
        return;
    }
    let needed = log_size_needed.expect("the kernel's log_true_size");
    assert!(needed > 256, "{needed}");
    assert!(
        err.to_string().ends_with(&format!(
            "give the load a log size of {needed} bytes to see all of it)"
        )),
        "{err}"
    );
    // One byte short is still cut, and says the same size.
    let short = load(needed - 1).unwrap_err();
    assert!(
        matches!(short, Error::ProgramLoad { log_size_needed: Some(n), .. } if n == needed),
        "{short}"
    );
    let loaded = load(needed).unwrap_or_else(|e| panic!("{e}"));
    let log = loaded.verifier_log().unwrap();
    assert!(log.len() < needed as usize, "{} of {needed}", log.len());
    assert!(log.contains("processed 41 insns"), "{log}");
}

#[test]
fn globals_are_set_by_name_and_kconfig_by_text() {
    let options = OpenOptions::new().kconfig("CONFIG_HZ=123\n");
    let mut open = OpenObject::from_static_with("settings", settings::bytes(), &options).unwrap();
    open.set_global("threshold", &9u32).unwrap();
    let err = open.set_global("threshold", &9u64).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Size {
                expected: 4,
                actual: 8,
                ..
            }
        ),
        "{err}"
    );
    let err = open.set_global("treshold", &9u32).unwrap_err();
    assert!(
        err.to_string().ends_with("did you mean `threshold`?"),
        "{err}"
    );
    let mut spec = open.map_spec("stackmap").unwrap();
    spec.value_size = 127 * 8;
    open.apply_map(&spec).unwrap();
    let inner = new_array(8);
    let mut outer = open.map_spec("outer").unwrap();
    outer.set_inner_map(&inner).unwrap();
    open.apply_map(&outer).unwrap();
    let objs = open.load().unwrap();
    run(&objs.program("read_globals").unwrap(), &[]);
    let bss = objs.section::<settings::BssView>(".bss").unwrap();
    assert_eq!((bss.threshold_seen.get(), bss.hz_seen.get()), (9, 123));
}

/// The bit offset of `member` in the struct `name` of the running kernel's
/// BTF.
fn vmlinux_member_offset(name: &str, member: &str) -> u32 {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: libbpf parses the kernel's BTF; the type and the names read
    // from it are used before it is freed below.
    unsafe {
        let btf = sys::btf__load_vmlinux_btf();
        assert!(!btf.is_null());
        let id = sys::btf__find_by_name_kind(btf, name.as_ptr(), sys::BTF_KIND_STRUCT);
        assert!(id > 0);
        let t = sys::btf__type_by_id(btf, id as u32);
        let vlen = ((*t).info & 0xffff) as usize;
        let kind_flag = (*t).info >> 31 == 1;
        let members = std::slice::from_raw_parts(t.add(1).cast::<sys::btf_member>(), vlen);
        let offset = members.iter().find_map(|m| {
            let found = std::ffi::CStr::from_ptr(sys::btf__name_by_offset(btf, m.name_off));
            (found.to_bytes() == member.as_bytes()).then_some(if kind_flag {
                m.offset & 0xff_ffff
            } else {
                m.offset
            })
        });
        sys::btf__free(btf);
        offset.expect("the member")
    }
}

/// A kernel BTF holding only `struct task_struct { int pid; }`, its `pid`
/// at `pid_bits` (a bit offset), as raw BTF bytes.
fn one_struct_btf(pid_bits: u32) -> Vec<u8> {
    // SAFETY: libbpf builds the BTF in memory; its raw data is copied
    // before the BTF is freed.
    unsafe {
        let btf = sys::btf__new_empty();
        assert!(!btf.is_null());
        let int = sys::btf__add_int(btf, c"int".as_ptr(), 4, sys::BTF_INT_SIGNED as i32);
        assert!(int > 0);
        let size = pid_bits / 8 + 4;
        let task = sys::btf__add_struct(btf, c"task_struct".as_ptr(), size);
        assert!(task > 0);
        let ret = sys::btf__add_field(btf, c"pid".as_ptr(), int, pid_bits, 0);
        assert_eq!(ret, 0);
        let mut len = 0u32;
        let data = sys::btf__raw_data(btf, &mut len);
        assert!(!data.is_null());
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len as usize).to_vec();
        sys::btf__free(btf);
        bytes
    }
}

/// `read_globals` reads `task->pid` through CO-RE. Against a copy of the
/// kernel's BTF it reads the calling thread's id; against a BTF whose
/// `task_struct` has its `pid` where the kernel keeps `tgid`, it reads the
/// process id (the test runs in a thread of its own, so the two differ):
/// the relocation came from the BTF the loader named.
#[test]
fn a_custom_kernel_btf_is_used_for_co_re() {
    let copy = std::env::temp_dir().join(format!("ebpf-skeleton-vmlinux-{}", std::process::id()));
    std::fs::copy("/sys/kernel/btf/vmlinux", &copy).unwrap();
    let open = || {
        let mut specs = settings::Specs::new_with(&OpenOptions::new().kernel_btf(&copy)).unwrap();
        specs.maps.stackmap.value_size = 127 * 8;
        specs.maps.outer.set_inner_map(&new_array(8)).unwrap();
        specs
    };
    let pid = std::process::id() as i32;
    assert_ne!(tid() as i32, pid, "a test thread is not the main thread");

    let objs = open().load().unwrap();
    run(&objs.programs.read_globals, &[]);
    assert_eq!(objs.bss.pid_seen.get(), tid() as i32, "task->pid");

    let tgid = vmlinux_member_offset("task_struct", "tgid");
    std::fs::write(&copy, one_struct_btf(tgid)).unwrap();
    let objs = open().load().unwrap();
    run(&objs.programs.read_globals, &[]);
    assert_eq!(
        objs.bss.pid_seen.get(),
        pid,
        "the custom BTF's `pid` is the kernel's `tgid`"
    );

    std::fs::write(&copy, b"not BTF").unwrap();
    let err = open().load().unwrap_err();
    std::fs::remove_file(&copy).unwrap();
    assert!(err.to_string().contains("target BTF"), "{err}");
}

/// The kernel version an object declares is libbpf's to pass with each
/// program at load. No kernel of the matrix (5.10 and later) shows it: since
/// 5.0 the kernel ignores it, even for kprobes (the only programs older
/// kernels checked it on), and no program or map info holds it. What is
/// asserted is what libbpf's object holds, set through the object API, the
/// skeleton's `Specs` and the derive's `LoadOptions`, and that the loads
/// with a version not the kernel's succeed, as the kernel ignores it.
#[test]
fn the_kernel_version_is_set_before_load() {
    let version = (5 << 16) | (10 << 8);
    // Without a `version` section, libbpf takes the running kernel's
    // (from uname(2)): its major and minor are the kernel's.
    let default = settings::Specs::new().unwrap().kernel_version();
    assert_eq!(default >> 8, kernel().version_code >> 8, "{default:#x}");

    let mut open = OpenObject::from_static("settings", settings::bytes()).unwrap();
    open.set_kernel_version(version).unwrap();
    assert_eq!(open.kernel_version(), version);

    // The skeleton.
    let mut specs = specs();
    specs.set_kernel_version(version).unwrap();
    assert_eq!(specs.kernel_version(), version);
    let objs = specs.load().unwrap();
    run(&objs.programs.read_globals, &[]);

    // The derive: `LoadOptions::apply` is what `load_with` calls on the
    // open object.
    let options = LoadOptions::new().kernel_version(version);
    let mut open = options.open_static("settings", settings::bytes()).unwrap();
    options.apply(&mut open).unwrap();
    assert_eq!(open.kernel_version(), version);
    let inner = std::sync::Arc::new(new_array(8));
    let reader = Reader::load_with(
        options
            .map("stackmap", |m| m.value_size = 127 * 8)
            .map("outer", move |m| m.set_inner_map(&*inner).unwrap()),
    )
    .unwrap();
    run(&reader.read_globals, &[]);
}

// The derive's `LoadOptions` reaches as far.
#[derive(Objects)]
#[ebpf(object = "../bpf/settings.bpf.o")]
struct Reader {
    read_globals: Program,
    record_stack: Program,
    stackmap: StackTraceMap,
    outer: ebpf_skeleton::ArrayOfMaps,
    bss: Section<settings::BssView>,
    data: Section<settings::DataView>,
}

#[test]
fn derive_users_set_maps_programs_and_constants() {
    let inner = new_array(8);
    let inner_fd = inner.as_fd().try_clone_to_owned().unwrap();
    let inner_fd = std::sync::Arc::new(Map::from_fd(inner_fd, "inner").unwrap());
    let options = LoadOptions::new()
        .map("stackmap", |m| m.value_size = 127 * 8)
        .map("outer", move |m| m.set_inner_map(&*inner_fd).unwrap())
        .program("read_globals", |p| p.log_level = 1)
        .global("threshold", &42u32)
        .open(OpenOptions::new().kconfig("CONFIG_HZ=300\n"));
    let reader = Reader::load_with(options).unwrap();
    assert!(reader.read_globals.verifier_log().is_some());
    run(&reader.read_globals, &[]);
    // The constant and the kconfig value the options set are what the
    // program read (the object's own are 5 and the kernel's CONFIG_HZ).
    assert_eq!(reader.bss.threshold_seen.get(), 42);
    assert_eq!(reader.bss.hz_seen.get(), 300);
    assert_eq!(reader.bss.pid_seen.get(), tid() as i32);
    run(&reader.record_stack, &[]);
    assert!(reader.data.stack_id.get() >= 0, "bpf_get_stackid");
    assert_eq!(reader.stackmap.info().value_size, 127 * 8);
    assert_eq!(reader.outer.map().map_type(), MapType::ARRAY_OF_MAPS);
}

#[test]
fn map_extra_reaches_the_kernel() {
    // A bloom filter's map_extra is its number of hash functions.
    let mut specs = bloom::Specs::new().unwrap();
    specs.maps.bloom.map_extra = 3;
    if !kernel().has(Feature::BloomFilter) {
        return assert_map_refused(specs.load(), "bloom", "bloom");
    }
    let objs = specs.load().unwrap();
    assert_eq!(objs.maps.bloom.info().map_extra, 3);
}
