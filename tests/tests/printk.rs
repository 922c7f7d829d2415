//! `bpf_printk` read back from the trace pipe: a program prints on a
//! syscall of this thread, and each line comes back with this thread's name
//! and id and the exact text, through the reader and through `log`.

use std::time::Duration;

use ebpf_skeleton::ebpf_skeleton;
use ebpf_skeleton::printk::{TraceLine, TracePipe, LOG_TARGET};
use ebpf_skeleton_tests::{tid, KeptLog};

ebpf_skeleton!("../bpf/printk.bpf.o");

static KEPT: KeptLog = KeptLog::new(LOG_TARGET);

fn getpriority() {
    // SAFETY: a plain syscall on this process.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
}

/// The lines of ours among everything in the pipe, until `n` have come.
fn ours(pipe: &mut TracePipe, tag: u32, n: usize) -> Vec<TraceLine> {
    let mut found = Vec::new();
    while found.len() < n {
        let line = pipe
            .next_line(Some(Duration::from_secs(10)))
            .expect("reading the trace pipe")
            .unwrap_or_else(|| panic!("{} of {n} lines came in 10 s", found.len()));
        if line.message.starts_with(&format!("printk test tag={tag} ")) {
            found.push(line);
        }
    }
    found
}

#[test]
fn printk_lines_come_back_with_their_task_and_text() {
    // One test reads the pipe: each line goes to one reader only.
    let tag = std::process::id() ^ 0x5eed;
    let mut specs = printk::Specs::new().unwrap();
    specs.rodata.target_tid = tid();
    specs.rodata.tag = tag;
    let objs = specs.load().expect("load printk.bpf.o");
    let mut pipe = TracePipe::open().expect("opening the trace pipe");
    let _links = objs.attach().expect("attach");

    for _ in 0..3 {
        getpriority();
    }
    let comm = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
    let lines = ours(&mut pipe, tag, 3);
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line.message, format!("printk test tag={tag} n={}", n + 1));
        assert_eq!(line.pid, tid(), "{line:?}");
        // The name, where the kernel had it cached (`<...>` otherwise).
        if let Some(task) = &line.task {
            assert_eq!(task, comm.trim_end(), "{line:?}");
        }
        assert!(line.is_printk(), "{line:?}");
    }
    assert!(lines[0].timestamp <= lines[2].timestamp);
    assert_eq!(objs.bss.count.get(), 3);

    // Through `log`: the lines that come while nothing else reads.
    log::set_logger(&KEPT).expect("the only logger");
    log::set_max_level(log::LevelFilter::Info);
    getpriority();
    let logged = pipe.forward_to_log(Duration::from_secs(2)).unwrap();
    assert!(logged >= 1, "nothing forwarded");
    let kept = KEPT.lines.lock().unwrap();
    let pid = format!("-{} [", tid());
    let text = format!("]: printk test tag={tag} n=4");
    assert!(
        kept.iter()
            .any(|l| l.starts_with("INFO ") && l.contains(&pid) && l.ends_with(&text)),
        "not logged: {kept:?}"
    );
}
