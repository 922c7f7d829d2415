//! The soundness issue's items, each against the kernel: what safe code can
//! no longer do (a second consumer of a ring, a perf slot taken over, a
//! section mapped from the wrong map, a link lending a descriptor it does
//! not have), what no longer breaks (threads attaching and detaching links
//! of one object, a CPU count that cannot be read), and what errors now say.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ebpf_skeleton::link::{Uprobe, Usdt};
use ebpf_skeleton::perf::{online_cpus, PerfOptions};
use ebpf_skeleton::{
    ebpf_skeleton, Error, Map, OpenObject, PerCpuValues, Program, RingBufReader, Section,
    UpdateFlags,
};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::{in_own_process, open_fds, run, run_on};

ebpf_skeleton!("../bpf/ringbuf.bpf.o");
ebpf_skeleton!("../bpf/perf.bpf.o");
ebpf_skeleton!("../bpf/soundness.bpf.o");
ebpf_skeleton!("../bpf/attach.bpf.o");
ebpf_skeleton!("../bpf/counter.bpf.o");
ebpf_skeleton!("../bpf/rejected.bpf.o");

/// A path in bpffs no other test uses.
fn pin_path(what: &str) -> PathBuf {
    PathBuf::from(format!(
        "/sys/fs/bpf/ebpf-skeleton-soundness-{what}-{}",
        std::process::id()
    ))
}

/// ringbuf.bpf.o with the producer this kernel runs: that of `bpf_loop`
/// (5.17), or before it the bounded loop (the ringbuf tests assert the
/// refusal of the other).
fn load_ringbuf() -> ringbuf::Objects {
    let bpf_loop = kernel().has(Feature::BpfLoop);
    let mut specs = ringbuf::Specs::new().unwrap();
    specs.programs.produce.autoload = bpf_loop;
    specs.programs.produce_discards.autoload = bpf_loop;
    specs.programs.produce_bounded.autoload = !bpf_loop;
    specs.load().unwrap()
}

/// The producer of ringbuf.bpf.o this kernel loaded.
fn ringbuf_producer(objs: &ringbuf::Objects) -> &Program {
    if kernel().has(Feature::BpfLoop) {
        &objs.programs.produce
    } else {
        &objs.programs.produce_bounded
    }
}

/// perf.bpf.o with the producer this kernel runs, as [`load_ringbuf`].
fn load_perf() -> perf::Objects {
    let bpf_loop = kernel().has(Feature::BpfLoop);
    let mut specs = perf::Specs::new().unwrap();
    specs.programs.produce.autoload = bpf_loop;
    specs.programs.produce_bounded.autoload = !bpf_loop;
    specs.load().unwrap()
}

/// Writes `count` 16-byte records numbered from `first` into `events`.
fn produce(objs: &ringbuf::Objects, count: u64, first: u64) {
    run(ringbuf_producer(objs), &[count, 16, first, 0, 0]);
}

fn is_busy(result: ebpf_skeleton::Result<RingBufReader>) -> bool {
    matches!(result, Err(Error::Busy { .. }))
}

// Item 1: one consumer per ring in this process, however the handle was
// obtained; a ring's memory is never a data section.
#[test]
fn a_ring_has_one_reader_in_this_process_however_its_map_was_obtained() {
    let objs = load_ringbuf();
    produce(&objs, 3, 0);
    let mut first = objs.maps.events.reader().unwrap();
    let record = first.next().expect("record 0");
    assert_eq!(record.read_prefix::<u64>(), Some(0));

    // The same typed map, the byte map under it, a second handle of the
    // same map by descriptor, and one by pin: all refused.
    let err = objs.maps.events.reader().unwrap_err();
    assert_eq!(
        err.to_string(),
        "map `events` already has a ring buffer reader in this process; \
         drop it first or read through it"
    );
    assert!(is_busy(RingBufReader::new(objs.maps.events.map())));
    let dup = objs.maps.events.map().as_fd().try_clone_to_owned().unwrap();
    let by_fd = Map::from_fd(dup, "events again").unwrap();
    assert!(is_busy(RingBufReader::new(&by_fd)));
    let path = pin_path("ring");
    objs.maps.events.pin(&path).unwrap();
    let by_pin = Map::from_pin(&path).unwrap();
    objs.maps.events.unpin(&path).unwrap();
    assert!(is_busy(RingBufReader::new(&by_pin)));

    // Nor can a ring be mapped as a data section's view.
    let err = Section::<soundness::BssView>::new(by_fd).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Section {
                section: ".bss",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "map `events again` cannot be mapped as the data section `.bss`: \
         it is a ringbuf map, not a data section's array"
    );

    // The lent record is untouched by all that, and the reader goes on.
    assert_eq!(record.read_prefix::<u64>(), Some(0));
    let seqs: Vec<u64> =
        std::iter::from_fn(|| first.next().map(|r| r.read_prefix().unwrap())).collect();
    assert_eq!(seqs, [1, 2]);

    // Another object's ring is another ring; and once the first reader is
    // gone, the ring takes a new one, which starts where it stopped.
    let other = load_ringbuf();
    assert!(other.maps.events.reader().is_ok());
    drop(first);
    produce(&objs, 1, 3);
    let mut again = RingBufReader::new(&by_pin).expect("free again");
    assert_eq!(again.next().unwrap().read_prefix::<u64>(), Some(3));
}

#[test]
fn a_section_view_maps_only_its_own_section() {
    let objs = soundness::Objects::load().unwrap();
    let data = objs.data.map().as_fd().try_clone_to_owned().unwrap();
    let data = Map::from_fd(data, "the .data map").unwrap();
    let err = Section::<soundness::BssView>::new(data).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("map `the .data map` cannot be mapped as the data section `.bss`"),
        "{text}"
    );
    let bss = objs.bss.map().as_fd().try_clone_to_owned().unwrap();
    let bss = Section::<soundness::BssView>::new(Map::from_fd(bss, "bss").unwrap())
        .expect("the section's own map");
    objs.bss.bumps.set(41);
    assert_eq!(bss.bumps.get(), 41, "both views show the same memory");
}

// Item 2: attaching and detaching from several threads, USDT (whose links
// change object state in libbpf) and uprobes, for a while.
#[inline(never)]
#[no_mangle]
extern "C" fn soundness_uprobe_target(x: u64) -> u64 {
    probe::probe!(ebpf_skeleton_tests, hit, x);
    std::hint::black_box(x + 1)
}

#[test]
fn threads_attaching_and_detaching_links_of_one_object() {
    let objs = soundness::Objects::load().unwrap();
    let pid = std::process::id() as i32;
    let usdt = Usdt::new("/proc/self/exe", "ebpf_skeleton_tests", "hit").pid(pid);
    let uprobe = Uprobe::entry("/proc/self/exe")
        .function("soundness_uprobe_target")
        .pid(pid);
    // Before 5.15 (no BPF cookies) libbpf tells an object's USDT links
    // apart by the probe's address, so a probe has one link of the object
    // at a time: a second is refused while the first lives, and the
    // threads take turns with theirs (their uprobes still come and go
    // freely).
    let by_address = !kernel().at_least(5, 15);
    if by_address {
        let first = objs.programs.on_usdt.attach_usdt(&usdt).unwrap();
        let err = objs.programs.on_usdt.attach_usdt(&usdt).unwrap_err();
        let Error::Attach {
            program, reason, ..
        } = &err
        else {
            panic!("expected an attach error, got {err}");
        };
        assert_eq!(program, "on_usdt", "{err}");
        assert_eq!(err.errno(), Some(libc::EEXIST), "{err}");
        assert!(
            reason.starts_with("usdt: IP collision detected for spec #")
                && reason.ends_with(" for 'ebpf_skeleton_tests:hit' in '/proc/self/exe'"),
            "{err}"
        );
        drop(first);
    }
    let usdt_turn = Mutex::new(());
    let deadline = Instant::now() + Duration::from_secs(3);
    let cycles = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut cycles = 0u64;
                    // Five cycles each however slow the machine (a VM
                    // without KVM takes a while per uprobe), more while
                    // time remains.
                    while cycles < 5 || Instant::now() < deadline {
                        let turn = by_address.then(|| usdt_turn.lock().unwrap());
                        let a = objs.programs.on_usdt.attach_usdt(&usdt).expect("usdt");
                        let b = objs
                            .programs
                            .on_uprobe
                            .attach_uprobe(&uprobe)
                            .expect("uprobe");
                        soundness_uprobe_target(cycles);
                        drop((a, b, turn));
                        cycles += 1;
                    }
                    cycles
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum::<u64>()
    });
    assert!(cycles >= 20, "only {cycles} attach/detach cycles");
    // Each probe fired while a link of its own thread was attached (the
    // other threads' links may have added more).
    let hits = |slot| objs.maps.hits.get(slot).unwrap().unwrap();
    assert!(
        hits(0) >= cycles && hits(1) >= cycles,
        "{} {}",
        hits(0),
        hits(1)
    );
}

// Item 3: a CPU count that cannot be read is an error, and not kept.
#[test]
fn possible_cpus_fails_without_descriptors_and_recovers() {
    in_own_process(
        "possible_cpus_fails_without_descriptors_and_recovers",
        || {
            lower_fd_limit(64);
            let mut files = Vec::new();
            while let Ok(f) = std::fs::File::open("/dev/null") {
                files.push(f);
            }
            let err = ebpf_skeleton::possible_cpus().unwrap_err();
            assert_eq!(err.errno(), Some(libc::EMFILE), "{err}");
            assert!(PerCpuValues::<u64>::zeroed().is_err());
            drop(files);
            let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap();
            assert_eq!(ebpf_skeleton::possible_cpus().unwrap(), cpu_list_len(&text));
            assert_eq!(
                PerCpuValues::<u64>::zeroed().unwrap().len(),
                cpu_list_len(&text)
            );
        },
    );
}

fn lower_fd_limit(n: u64) {
    let limit = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: a valid rlimit for this process.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

/// How many CPUs a list such as `0-3,5` holds.
fn cpu_list_len(text: &str) -> usize {
    text.trim()
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

// Item 4: a USDT link has no descriptor of its own, and says so.
#[test]
fn a_usdt_link_has_no_descriptor_of_its_own() {
    let objs = soundness::Objects::load().unwrap();
    let pid = std::process::id() as i32;
    let mut usdt = objs
        .programs
        .on_usdt
        .attach_usdt(&Usdt::new("/proc/self/exe", "ebpf_skeleton_tests", "hit").pid(pid))
        .unwrap();
    assert!(usdt.fd().is_none());
    let err = usdt.pin(pin_path("usdt")).unwrap_err();
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        source.starts_with(
            "this link has no BPF link descriptor of its own (a USDT link is a set of uprobes"
        ),
        "{source}"
    );
    let uprobe = objs
        .programs
        .on_uprobe
        .attach_uprobe(
            &Uprobe::entry("/proc/self/exe")
                .function("soundness_uprobe_target")
                .pid(pid),
        )
        .unwrap();
    if !kernel().at_least(5, 15) {
        // No BPF perf links before 5.15: a uprobe's link is its perf event.
        let mut uprobe = uprobe;
        assert!(uprobe.fd().is_none());
        let err = uprobe.pin(pin_path("uprobe")).unwrap_err();
        assert_no_link_descriptor(&err);
        return;
    }
    let fd = uprobe.fd().expect("a uprobe link has one");
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    assert_eq!(target.to_str(), Some("anon_inode:bpf_link"));
}

/// Asserts that `err` is the refusal to pin or lend the descriptor of a
/// link without one.
fn assert_no_link_descriptor(err: &Error) {
    let source = std::error::Error::source(err).unwrap().to_string();
    assert_eq!(
        source,
        "this link has no BPF link descriptor of its own (a USDT link is a set of uprobes; \
         a perf event link on a kernel without BPF perf links is the event)",
        "{err}"
    );
}

// Item 5: data sections are read and written atomically, so the objects
// that hold them can be shared by threads.
#[test]
fn objects_with_sections_are_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<soundness::Objects>();
    shareable::<Section<soundness::BssView>>();
    shareable::<Section<soundness::DataView>>();

    let objs = Arc::new(soundness::Objects::load().unwrap());
    const RUNS: u64 = 2000;
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let objs = objs.clone();
                let done = &done;
                s.spawn(move || {
                    let mut last = 0;
                    while !done.load(Ordering::Relaxed) {
                        let now = objs.bss.bumps.get();
                        assert!(now >= last, "the counter went back from {last} to {now}");
                        last = now;
                    }
                })
            })
            .collect();
        for _ in 0..RUNS {
            run(&objs.programs.bump, &[]);
        }
        done.store(true, Ordering::Relaxed);
        readers.into_iter().for_each(|r| r.join().unwrap());
    });
    assert_eq!(objs.bss.bumps.get(), RUNS);
}

// Item 6: `.data` is `.data`, not the custom `.data.data`.
#[test]
fn data_sections_are_matched_by_their_exact_names() {
    let mut specs = soundness::Specs::new().unwrap();
    assert_eq!((specs.data.in_data, specs.data_data.in_custom), (11, 22));
    specs.data.in_data = 5;
    specs.data_data.in_custom = 7;
    let objs = specs.load().unwrap();
    run(&objs.programs.read_sections, &[]);
    assert_eq!(
        (objs.bss.seen_data.get(), objs.bss.seen_custom.get()),
        (5, 7)
    );
    assert_eq!(
        (objs.data.in_data.get(), objs.data_data.in_custom.get()),
        (5, 7)
    );
}

// Item 8: one perf reader per slot; duplicate CPUs refused; a reader's drop
// clears only its own slots.
#[test]
fn a_perf_slot_has_one_reader_in_this_process() {
    let objs = load_perf();
    let cpus = online_cpus().unwrap();
    let first = PerfOptions::new().cpus([cpus[0]]);
    let mut reader = objs.maps.events.reader_with(&first).unwrap();
    let err = objs.maps.events.reader_with(&first).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "map `events` already has a perf reader on CPU {} in this process; \
             drop it first or read through it",
            cpus[0]
        )
    );
    assert!(matches!(objs.maps.events.reader(), Err(Error::Busy { .. })));
    let twice = PerfOptions::new().cpus([cpus[0], cpus[0]]);
    let err = objs.maps.events.reader_with(&twice).unwrap_err();
    assert!(
        err.to_string()
            .ends_with(&format!("CPU {} is listed twice", cpus[0])),
        "{err}"
    );
    if let Some(&other) = cpus.get(1) {
        let second = objs
            .maps
            .events
            .reader_with(&PerfOptions::new().cpus([other]))
            .expect("another CPU's slot is free");
        drop(second);
    }
    // The first reader's slot survived the others coming and going.
    let produce = if kernel().has(Feature::BpfLoop) {
        &objs.programs.produce
    } else {
        &objs.programs.produce_bounded
    };
    run_on(produce, cpus[0], &[5, 24, 0]);
    let mut seqs = Vec::new();
    reader.drain(|_, sample| seqs.push(u64::from_ne_bytes(sample[..8].try_into().unwrap())));
    assert_eq!(seqs, [0, 1, 2, 3, 4]);
}

// Item 9: a record the producer is still writing is not mistaken for a
// corrupt one, however the race falls.
struct ErrorLog(Mutex<Vec<String>>);

impl log::Log for ErrorLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

static ERRORS: ErrorLog = ErrorLog(Mutex::new(Vec::new()));

#[test]
fn draining_beside_a_busy_producer_logs_no_false_corruption() {
    log::set_logger(&ERRORS).unwrap();
    log::set_max_level(log::LevelFilter::Error);
    let objs = load_ringbuf();
    let cpus = online_cpus().unwrap();
    let producer_cpu = *cpus.last().unwrap();
    let mut reader = objs.maps.events.reader().unwrap();
    let done = AtomicBool::new(false);
    // Records arrive in order (some may find the ring full if this thread
    // is descheduled: the program counts those).
    let (mut read, mut last) = (0u64, None);
    let mut check = |seq: Option<u64>| {
        let seq = seq.expect("a 16-byte record");
        assert!(last < Some(seq), "record {seq} after {last:?}");
        (last, read) = (Some(seq), read + 1);
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut seq = 0;
            while !done.load(Ordering::Relaxed) {
                run_on(ringbuf_producer(&objs), producer_cpu, &[32, 16, seq, 0, 0]);
                seq += 32;
            }
        });
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            reader.drain(|record| check(record.read_prefix()));
        }
        done.store(true, Ordering::Relaxed);
    });
    reader.drain(|record| check(record.read_prefix()));
    let written = objs.maps.stats.get(0).unwrap().unwrap();
    assert_eq!(read, written, "every record written was read");
    assert!(read > 1000, "{read} records");
    let errors = ERRORS.0.lock().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
}

// Item 10: attach errors name the program, the target, the errno and why.
#[test]
fn attach_errors_name_the_program_the_target_and_the_reason() {
    let objs = attach::Objects::load().unwrap();
    let err = objs
        .programs
        .count_tp
        .attach_tracepoint("no_such_category", "nothing")
        .unwrap_err();
    assert!(
        matches!(&err, Error::Attach { program, target, .. }
            if program == "count_tp" && target == "tracepoint `no_such_category:nothing`"),
        "{err:?}"
    );
    assert_eq!(err.errno(), Some(libc::ENOENT));
    assert!(
        err.to_string()
            .starts_with("attaching program `count_tp` to tracepoint `no_such_category:nothing`: "),
        "{err}"
    );

    let err = objs
        .programs
        .count_tp
        .attach_tracepoint("sys\0calls", "sys_enter_getppid")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "attaching program `count_tp` to tracepoint `sys\0calls:sys_enter_getppid`: \
         the name holds a NUL byte at byte 3"
    );

    // libbpf's own explanation is kept.
    let usdt = soundness::Objects::load().unwrap();
    let err = usdt
        .programs
        .on_usdt
        .attach_usdt(&Usdt::new("/bin/true", "nobody", "nothing"))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "attaching program `on_usdt` to USDT probe `nobody:nothing` of /bin/true: "
        ),
        "{text}"
    );
    assert!(text.contains("no USDT notes section"), "{text}");
}

// Item 11: failing opens keep no descriptor.
#[test]
fn failing_opens_leave_no_descriptor_behind() {
    in_own_process("failing_opens_leave_no_descriptor_behind", || {
        let dir = std::env::temp_dir();
        let garbage = dir.join(format!(
            "ebpf-skeleton-garbage-{}.bpf.o",
            std::process::id()
        ));
        std::fs::write(&garbage, [0x7fu8; 100]).unwrap();
        let before = open_fds();
        for _ in 0..10_000 {
            assert!(matches!(
                OpenObject::from_file(&dir),
                Err(Error::Open { .. })
            ));
            assert!(matches!(
                OpenObject::from_file(&garbage),
                Err(Error::Open { .. })
            ));
        }
        std::fs::remove_file(&garbage).unwrap();
        assert_eq!(open_fds(), before);
    });
}

// Item 12: a map handle is made only from a map's descriptor, and a map
// removes only its own pin.
#[test]
fn a_pinned_program_or_link_is_not_a_map() {
    let objs = soundness::Objects::load().unwrap();
    let path = pin_path("program");
    let prog_fd = objs.programs.bump.fd().unwrap();
    pin_raw(prog_fd.as_raw_fd(), &path);
    let err = Map::from_pin(&path).unwrap_err();
    assert!(
        std::error::Error::source(&err)
            .unwrap()
            .to_string()
            .contains("the descriptor is a program, not a map"),
        "{err}"
    );
    let err = Map::from_fd(prog_fd.try_clone_to_owned().unwrap(), "not a map").unwrap_err();
    assert!(matches!(err, Error::Map { op: "open", .. }), "{err}");

    let mut uprobe = objs
        .programs
        .on_uprobe
        .attach_uprobe(&Uprobe::entry("/proc/self/exe").function("soundness_uprobe_target"))
        .unwrap();
    let link_path = pin_path("link");
    // No BPF perf links before 5.15: there the uprobe's link has no
    // descriptor to pin, and a raw tracepoint's link (5.7) is pinned.
    let counter = counter::Objects::load().unwrap();
    let mut link = if kernel().at_least(5, 15) {
        uprobe
    } else {
        assert_no_link_descriptor(&uprobe.pin(&link_path).unwrap_err());
        assert!(!link_path.exists());
        counter.programs.count_getppid_raw.attach().unwrap()
    };
    link.pin(&link_path).unwrap();
    let err = Map::from_pin(&link_path).unwrap_err();
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        source.contains("the descriptor is a link, not a map"),
        "{err}: {source}"
    );
    std::fs::remove_file(&link_path).unwrap();

    // A map whose id is the pinned program's id (ids of maps and programs
    // are counted apart) still leaves the program's pin alone.
    std::fs::remove_file(&path).unwrap();
    let (map, prog) = map_and_program_with_one_id();
    pin_raw(prog.as_raw_fd(), &path);
    let map = Map::from_fd(map, "same id").unwrap();
    assert!(map.unpin(&path).is_err());
    assert!(path.exists(), "the program's pin was removed");
    std::fs::remove_file(&path).unwrap();
}

fn pin_raw(fd: i32, path: &std::path::Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a live descriptor and a valid C string.
    let ret = unsafe { ebpf_skeleton::libbpf_sys::bpf_obj_pin(fd, c_path.as_ptr()) };
    assert_eq!(ret, 0, "pinning at {}", path.display());
}

/// A new array map and a new trivial program that the kernel gave the same
/// id, found by creating whichever lags until the counters meet.
fn map_and_program_with_one_id() -> (OwnedFd, OwnedFd) {
    let (mut map, mut prog) = (new_map(), new_program());
    loop {
        let (m, p) = (id_of(&map), id_of(&prog));
        match m.cmp(&p) {
            std::cmp::Ordering::Equal => return (map, prog),
            std::cmp::Ordering::Less => map = new_map(),
            std::cmp::Ordering::Greater => prog = new_program(),
        }
    }
}

fn new_map() -> OwnedFd {
    use ebpf_skeleton::libbpf_sys as sys;
    // SAFETY: a plain map creation; NULL options take the defaults.
    let fd = unsafe {
        sys::bpf_map_create(
            sys::BPF_MAP_TYPE_ARRAY,
            std::ptr::null(),
            4,
            4,
            1,
            std::ptr::null(),
        )
    };
    assert!(fd >= 0, "bpf_map_create");
    // SAFETY: the kernel just returned this fd.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn new_program() -> OwnedFd {
    use ebpf_skeleton::libbpf_sys as sys;
    // r0 = 0; exit
    let insns = [
        sys::bpf_insn {
            code: 0xb7,
            ..Default::default()
        },
        sys::bpf_insn {
            code: 0x95,
            ..Default::default()
        },
    ];
    let license = c"GPL";
    // SAFETY: two valid instructions and a license string that outlive the call.
    let fd = unsafe {
        sys::bpf_prog_load(
            sys::BPF_PROG_TYPE_SOCKET_FILTER,
            std::ptr::null(),
            license.as_ptr(),
            insns.as_ptr(),
            insns.len() as _,
            std::ptr::null_mut(),
        )
    };
    assert!(fd >= 0, "bpf_prog_load");
    // SAFETY: the kernel just returned this fd.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The id of a map or program (BPF_OBJ_GET_INFO_BY_FD puts it first).
fn id_of(fd: &OwnedFd) -> u32 {
    let mut info = [0u8; 256];
    let mut len = info.len() as u32;
    // SAFETY: `info` is writable for `len` bytes.
    let ret = unsafe {
        ebpf_skeleton::libbpf_sys::bpf_obj_get_info_by_fd(
            fd.as_raw_fd(),
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    assert_eq!(ret, 0);
    // `type` then `id`, u32 each, for both info structs.
    u32::from_ne_bytes(info[4..8].try_into().unwrap())
}

// Item 13: verifier log buffers take only the memory the kernel writes.
#[test]
fn loads_keep_memory_flat() {
    in_own_process("loads_keep_memory_flat", || {
        let _warm = counter::Objects::load().unwrap();
        let rss = || status_kib("VmRSS:");
        let before = rss();
        for _ in 0..10 {
            drop(counter::Objects::load().unwrap());
            assert!(rejected::Objects::load().is_err());
        }
        let grown = rss().saturating_sub(before);
        assert!(grown < 8 * 1024, "RSS grew by {grown} KiB over 20 loads");

        let peak = status_kib("VmHWM:");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..3 {
                        drop(counter::Objects::load().unwrap());
                        assert!(rejected::Objects::load().is_err());
                    }
                });
            }
        });
        let grown = status_kib("VmHWM:").saturating_sub(peak);
        assert!(
            grown < 64 * 1024,
            "peak RSS grew by {grown} KiB with 8 threads loading"
        );
    });
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

// Item 14: open errors say what libbpf said, not a bare code.
#[test]
fn open_errors_say_what_libbpf_said() {
    let bytes = counter::bytes();
    let err = OpenObject::from_bytes("cut", &bytes[..bytes.len() / 2]).unwrap_err();
    let Error::Open { details, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(details.starts_with("libbpf: "), "{details}");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(!source.contains("Unknown error"), "{source}");
    assert!(err.errno().is_some());
}

// Item 15: with the capabilities to load but no access to tracefs, the
// error says what is missing.
#[test]
fn without_tracefs_access_a_tracepoint_attach_says_so() {
    const CHILD: &str = "EBPF_SKELETON_CAPS_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // SAFETY: plain queries.
        assert_ne!(unsafe { libc::geteuid() }, 0);
        let objs =
            counter::Objects::load().expect("CAP_BPF and CAP_PERFMON load a tracepoint program");
        let err = objs.programs.count_getppid.attach().unwrap_err();
        let text = err.to_string();
        assert!(
            text.ends_with(
                "this process cannot read tracefs (/sys/kernel/tracing), where the tracepoint's id \
                 is: run as root, or give it access to /sys/kernel/tracing"
            ),
            "{text}"
        );
        return;
    }
    let mode = std::fs::metadata("/sys/kernel/tracing").unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        mode.permissions().mode() & 0o007,
        0,
        "this test needs tracefs closed to others, as the kernel mounts it"
    );
    let output = spawn_with_caps(
        "without_tracefs_access_a_tracepoint_attach_says_so",
        CHILD,
        &[CAP_BPF, CAP_PERFMON],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && text.contains("1 passed"),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Runs the test `name` in a copy of this binary as `nobody`, with only the
/// capabilities `caps` (ambient, so they survive exec), `env` set.
fn spawn_with_caps(name: &str, env: &str, caps: &[u32]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let copy = std::env::temp_dir().join(format!("ebpf-skeleton-caps-{}", std::process::id()));
    ebpf_skeleton_tests::copy_executable(&std::env::current_exe().unwrap(), &copy);
    let caps = caps.to_vec();
    let mut command = std::process::Command::new(&copy);
    command.args(["--exact", name, "--nocapture"]).env(env, "1");
    // SAFETY: between fork and exec the closure only makes system calls.
    unsafe {
        command.pre_exec(move || drop_to_nobody_with(&caps));
    }
    let output = command.output().expect("start the copy");
    std::fs::remove_file(&copy).ok();
    output
}

/// Becomes `nobody` keeping `caps` as ambient capabilities.
fn drop_to_nobody_with(caps: &[u32]) -> std::io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let check = |ret: i64| {
        if ret < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    let mut data = [Data::default(); 2];
    for &cap in caps {
        let (word, bit) = ((cap / 32) as usize, 1 << (cap % 32));
        data[word].effective |= bit;
        data[word].permitted |= bit;
        data[word].inheritable |= bit;
    }
    let header = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    // SAFETY: system calls on this (forked) process with valid arguments.
    unsafe {
        check(libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) as i64)?;
        check(libc::setgroups(0, std::ptr::null()) as i64)?;
        check(libc::setgid(65534) as i64)?;
        check(libc::setuid(65534) as i64)?;
        check(libc::syscall(libc::SYS_capset, &header, data.as_ptr()))?;
        for &cap in caps {
            check(libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE, cap, 0, 0) as i64)?;
        }
    }
    Ok(())
}

// API points: names looked up at run time suggest the closest one.
#[test]
fn missing_names_suggest_the_closest() {
    let open = OpenObject::from_static("counter", counter::bytes()).unwrap();
    let err = open.map_spec("cuonts").unwrap_err();
    assert_eq!(
        err.to_string(),
        "eBPF object `counter` has no map named `cuonts`; did you mean `counts`?"
    );
    let err = open.program_spec("count_getppid_rwa").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("did you mean `count_getppid_raw`?"),
        "{err}"
    );
    let objs = open.load().unwrap();
    objs.map("counts")
        .unwrap()
        .update(&1u32.to_ne_bytes(), &2u64.to_ne_bytes(), UpdateFlags::ANY)
        .unwrap();
    // The loaded object's lookups too.
    let err = objs.map("cuonts").unwrap_err();
    assert_eq!(
        err.to_string(),
        "eBPF object `counter` has no map named `cuonts`; did you mean `counts`?"
    );
    let err = objs.program("count_getppid_rwa").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("did you mean `count_getppid_raw`?"),
        "{err}"
    );
}
