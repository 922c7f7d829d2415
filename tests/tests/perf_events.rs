//! Perf events opened without unsafe code (`PerfEventSpec`) and the
//! programs they run: software counters on this thread, sampled by period
//! or by frequency; a clock of every thread of one CPU; page faults counted
//! one by one; a tracepoint's perf event; and hardware counters, which a
//! machine without a PMU refuses.

use std::time::{Duration, Instant};

use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::link::{
    HardwareEvent, LinkDetail, LinkType, PerfEventDetail, PerfEventSpec, SoftwareEvent,
};
use ebpf_skeleton::{ebpf_skeleton, UpdateFlags};
use ebpf_skeleton_tests::kernel::kernel;
use ebpf_skeleton_tests::{getppid_n, tid};

ebpf_skeleton!("../bpf/perf_events.bpf.o");

/// Slots of `hits`, as in perf_events.bpf.c.
const SAMPLE: u32 = 0;
const TRACEPOINT: u32 = 1;

fn load_for_this_thread() -> perf_events::Objects {
    let objs = perf_events::Objects::load().expect("load perf_events.bpf.o");
    objs.maps.target.set(0, &tid(), UpdateFlags::ANY).unwrap();
    objs
}

fn hits(objs: &perf_events::Objects, slot: u32) -> u64 {
    objs.maps.hits.get(slot).unwrap().unwrap()
}

/// Keeps this thread on its CPU until `done` holds or 5 s pass.
fn spin_until(mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut x = 0u64;
    while !done() && start.elapsed() < Duration::from_secs(5) {
        for i in 0..100_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
}

#[test]
fn a_software_clock_of_this_thread_runs_the_program_every_period() {
    let objs = load_for_this_thread();
    let event = PerfEventSpec::software(SoftwareEvent::CpuClock)
        .sample_period(100_000)
        .open()
        .unwrap();
    let link = objs.programs.on_sample.attach_perf_event(event).unwrap();
    assert_eq!(
        link.target(),
        "the perf event `cpu-clock` of the calling thread"
    );
    spin_until(|| hits(&objs, SAMPLE) >= 10);
    assert!(hits(&objs, SAMPLE) >= 10, "{} samples", hits(&objs, SAMPLE));
    // (Its info names the kernel's own PMU of the CPU clock, whose type
    // number recent kernels allocate at boot: the page fault test checks
    // the info of a software event.) No BPF perf links before 5.15.
    if kernel().at_least(5, 15) {
        assert_eq!(link.info().unwrap().link_type, LinkType::PERF_EVENT);
    } else {
        assert!(link.fd().is_none());
    }
    drop(link);
    let after = hits(&objs, SAMPLE);
    let start = Instant::now();
    spin_until(|| start.elapsed() > Duration::from_millis(200));
    assert_eq!(hits(&objs, SAMPLE), after, "a dropped link samples no more");
}

#[test]
fn a_sample_frequency_runs_the_program_about_that_often() {
    let objs = load_for_this_thread();
    let spec = PerfEventSpec::software(SoftwareEvent::TaskClock).sample_frequency(1000);
    let event = spec.open().unwrap();
    let _link = objs.programs.on_sample.attach_perf_event(event).unwrap();
    // 300 ms of this thread's time at 1000 Hz: about 300 samples. The
    // kernel tunes the period from the rate it sees (and an emulated CPU
    // runs slowly), so allow a wide margin, but not the every-event rate
    // of a period of 1 (millions).
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_millis(300) {
        x = std::hint::black_box(x.wrapping_add(1));
    }
    let samples = hits(&objs, SAMPLE);
    assert!((1..=3000).contains(&samples), "{samples} samples");
}

#[test]
fn a_clock_of_every_thread_on_one_cpu_sees_this_thread_there() {
    let objs = load_for_this_thread();
    let cpu = 0u32;
    pin_to_cpu(cpu as usize);
    let event = PerfEventSpec::software(SoftwareEvent::CpuClock)
        .all_threads_on_cpu(cpu)
        .sample_period(100_000)
        .open()
        .unwrap();
    let link = objs.programs.on_sample.attach_perf_event(event).unwrap();
    assert_eq!(
        link.target(),
        "the perf event `cpu-clock` of every thread on CPU 0"
    );
    spin_until(|| hits(&objs, SAMPLE) >= 5);
    assert!(hits(&objs, SAMPLE) >= 5, "{}", hits(&objs, SAMPLE));
}

#[test]
fn page_faults_counted_one_by_one() {
    const PAGES: usize = 64;
    let objs = load_for_this_thread();
    let event = PerfEventSpec::software(SoftwareEvent::PageFaults)
        .open()
        .unwrap();
    let before = event.count().unwrap();
    let faults = PerfEventSpec::software(SoftwareEvent::PageFaults)
        .open()
        .unwrap();
    let link = objs.programs.on_sample.attach_perf_event(faults).unwrap();
    assert_perf_detail(
        &link,
        PerfEventDetail::Event {
            event_type: sys::PERF_TYPE_SOFTWARE,
            config: sys::PERF_COUNT_SW_PAGE_FAULTS as u64,
            cookie: 0,
        },
    );
    // Fresh pages of a mapping of their own (an allocation this large is
    // one), each faulted in by its first write.
    let page = 4096;
    let mut memory = vec![0u8; PAGES * page];
    for i in 0..PAGES {
        memory[i * page] = 1;
    }
    std::hint::black_box(&memory);
    let counted = event.count().unwrap() - before;
    assert!(counted >= PAGES as u64, "the counter saw {counted} faults");
    assert!(
        hits(&objs, SAMPLE) >= PAGES as u64,
        "the program saw {} faults",
        hits(&objs, SAMPLE)
    );
    drop(memory);
}

#[test]
fn a_tracepoint_program_runs_from_its_tracepoint_s_perf_event() {
    let objs = load_for_this_thread();
    let event = PerfEventSpec::tracepoint("syscalls", "sys_enter_getppid")
        .open()
        .unwrap();
    let link = objs
        .programs
        .on_tracepoint
        .attach_perf_event(event)
        .unwrap();
    getppid_n(5);
    assert_eq!(hits(&objs, TRACEPOINT), 5);
    assert_perf_detail(
        &link,
        PerfEventDetail::Tracepoint {
            name: "sys_enter_getppid".into(),
            cookie: 0,
        },
    );

    let err = PerfEventSpec::tracepoint("syscalls", "sys_enter_nothing")
        .open()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "opening the perf event of tracepoint `syscalls:sys_enter_nothing` of the calling \
         thread: no such tracepoint under /sys/kernel/tracing/events"
    );
    assert_eq!(err.errno(), Some(libc::ENOENT), "{err:?}");
}

#[test]
fn hardware_counters_need_a_pmu() {
    let objs = load_for_this_thread();
    let spec = PerfEventSpec::hardware(HardwareEvent::Instructions).sample_period(10_000);
    let has_pmu = std::path::Path::new("/sys/bus/event_source/devices/cpu").exists();
    if has_pmu {
        let event = spec.open().unwrap();
        let _link = objs.programs.on_sample.attach_perf_event(event).unwrap();
        spin_until(|| hits(&objs, SAMPLE) > 0);
        assert!(hits(&objs, SAMPLE) > 0);
    } else {
        // This machine (and a TCG guest) has no PMU to count with.
        let err = spec.open().unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");
        assert_eq!(
            err.to_string(),
            "opening the perf event `instructions` of the calling thread"
        );
    }
}

/// Checks what a perf event link says of its event, as this kernel says
/// it: from 6.6 the event itself; from 5.15 (BPF perf links) nothing of it;
/// before, there is no link descriptor to ask.
fn assert_perf_detail(link: &ebpf_skeleton::Link, detail: PerfEventDetail) {
    if !kernel().at_least(5, 15) {
        assert!(link.fd().is_none());
        return;
    }
    let want = if kernel().at_least(6, 6) {
        detail
    } else {
        PerfEventDetail::Unknown
    };
    assert_eq!(link.info().unwrap().detail, LinkDetail::PerfEvent(want));
}

/// Keeps the calling thread on `cpu`.
fn pin_to_cpu(cpu: usize) {
    // SAFETY: zeroes are an empty CPU set; CPU_SET writes inside it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid CPU set of the size given.
    let ret = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
    assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
}

#[test]
fn a_clock_of_another_thread_runs_the_program_on_that_thread() {
    let objs = load_for_this_thread();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let spinner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            tx.send(tid()).unwrap();
            spin_until(|| stop.load(std::sync::atomic::Ordering::Relaxed));
        })
    };
    let other = rx.recv().unwrap();
    // The program counts the other thread's samples only: an event of the
    // calling thread would leave them at 0.
    objs.maps.target.set(0, &other, UpdateFlags::ANY).unwrap();
    let event = PerfEventSpec::software(SoftwareEvent::CpuClock)
        .sample_period(100_000)
        .thread(other as libc::pid_t)
        .open()
        .unwrap();
    let link = objs.programs.on_sample.attach_perf_event(event).unwrap();
    assert_eq!(
        link.target(),
        format!("the perf event `cpu-clock` of thread {other}")
    );
    let start = Instant::now();
    while hits(&objs, SAMPLE) < 10 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    spinner.join().unwrap();
    assert!(hits(&objs, SAMPLE) >= 10, "{} samples", hits(&objs, SAMPLE));
}

#[test]
fn events_on_each_cpu_see_this_thread_wherever_it_runs() {
    let objs = load_for_this_thread();
    let events = PerfEventSpec::software(SoftwareEvent::CpuClock)
        .sample_period(100_000)
        .open_on_each_cpu()
        .unwrap();
    let online = ebpf_skeleton::perf::online_cpus().unwrap();
    assert_eq!(events.len(), online.len(), "one event a CPU: {online:?}");
    let links: Vec<_> = events
        .into_iter()
        .map(|event| objs.programs.on_sample.attach_perf_event(event).unwrap())
        .collect();
    let target = links[0].target();
    assert!(
        target.ends_with(&format!("of every thread on CPU {}", online[0])),
        "{target}"
    );
    spin_until(|| hits(&objs, SAMPLE) >= 10);
    assert!(hits(&objs, SAMPLE) >= 10, "{} samples", hits(&objs, SAMPLE));
}
