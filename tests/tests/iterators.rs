//! BPF iterators read through `std::io::Read` and whole: every task, one
//! thread, one process's threads, a thread's open files, a map's elements,
//! and cgroups walked in each order from a hierarchy made for the test.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use ebpf_skeleton::link::{CgroupIterOrder, IterOptions, LinkDetail, LinkType};
use ebpf_skeleton::{ebpf_skeleton, UpdateFlags};
use ebpf_skeleton_tests::kernel::{kernel, Feature};
use ebpf_skeleton_tests::{cgroup2_root, tid};

ebpf_skeleton!("../bpf/iters.bpf.o");
ebpf_skeleton!("../bpf/iter_cgroup.bpf.o");

/// The iterator's output as (first, second) number pairs, one a line.
fn pairs(text: &str) -> Vec<(u64, u64)> {
    text.lines()
        .map(|l| {
            let (a, b) = l.split_once(' ').unwrap_or_else(|| panic!("line {l:?}"));
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

/// iters.bpf.o without its map iterator where the kernel refuses that
/// (`a_map_iterator_walks_the_elements_of_its_map` asserts the refusal).
fn load_iters() -> iters::Objects {
    let mut specs = iters::Specs::new().unwrap();
    specs.programs.dump_elem.autoload = kernel().has(Feature::MapIterators);
    specs.load().unwrap()
}

fn pid() -> u64 {
    u64::from(std::process::id())
}

#[test]
fn a_task_iterator_lists_every_task_and_is_read_like_a_file() {
    let objs = load_iters();
    let link = objs
        .programs
        .dump_task
        .attach_iter(&IterOptions::new())
        .unwrap();
    let tasks = pairs(&link.read_iter_to_string().unwrap());
    assert!(
        tasks.contains(&(u64::from(tid()), pid())),
        "this thread is a task"
    );
    assert!(tasks.contains(&(pid(), pid())), "so is its main thread");
    // Every read starts over; BufRead reads it line by line.
    let lines = BufReader::new(link.iter().unwrap()).lines().count();
    assert!(lines > 10, "{lines} tasks");
    let LinkDetail::Iter {
        target, tid, pid, ..
    } = link.info().unwrap().detail
    else {
        panic!("an iterator link");
    };
    assert_eq!((target.as_str(), tid, pid), ("task", 0, 0));
    assert_eq!(link.info().unwrap().link_type, LinkType::ITER);
}

#[test]
fn a_task_iterator_of_one_thread_or_one_process() {
    let objs = load_iters();
    let p = &objs.programs.dump_task;
    let one = p.attach_iter(&IterOptions::thread(tid())).unwrap();
    if !kernel().at_least(6, 1) {
        // Task iterators take no parameters before 6.1: 5.10 attaches
        // without complaint and walks every task.
        let tasks = pairs(&one.read_iter_to_string().unwrap());
        assert!(tasks.len() > 1, "{tasks:?}");
        return;
    }
    assert_eq!(
        pairs(&one.read_iter_to_string().unwrap()),
        [(u64::from(tid()), pid())]
    );
    assert!(matches!(
        one.info().unwrap().detail,
        LinkDetail::Iter { tid: t, .. } if t == tid()
    ));

    // Every thread of this process, and nothing else.
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let helper = std::thread::spawn(move || wait.recv());
    let process = p
        .attach_iter(&IterOptions::process(std::process::id()))
        .unwrap();
    let threads = pairs(&process.read_iter_to_string().unwrap());
    assert!(threads.len() >= 2, "{threads:?}");
    assert!(threads.iter().all(|&(_, p)| p == pid()), "{threads:?}");
    assert!(threads.contains(&(u64::from(tid()), pid())));
    drop(done);
    helper.join().unwrap().unwrap_err();

    // A process by its pidfd: a child's threads, none of this process's.
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id(), 0) };
    assert!(fd >= 0, "{}", std::io::Error::last_os_error());
    // SAFETY: the kernel just returned this fd, which nothing else owns.
    let pidfd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    let by_pidfd = p.attach_iter(&IterOptions::pidfd(&pidfd)).unwrap();
    let theirs = pairs(&by_pidfd.read_iter_to_string().unwrap());
    child.kill().unwrap();
    child.wait().unwrap();
    let child_pid = u64::from(child.id());
    assert_eq!(theirs, [(child_pid, child_pid)], "sleep has one thread");
}

#[test]
fn a_file_iterator_sees_a_file_this_process_opened() {
    let objs = load_iters();
    let file = File::open("/proc/self/status").unwrap();
    let options = if kernel().at_least(6, 1) {
        IterOptions::process(std::process::id())
    } else {
        IterOptions::new()
    };
    let link = objs.programs.dump_file.attach_iter(&options).unwrap();
    let mut text = String::new();
    link.iter().unwrap().read_to_string(&mut text).unwrap();
    let files = pairs(&text);
    assert!(
        files.contains(&(pid(), file.as_raw_fd() as u64)),
        "fd {} of process {} in {files:?}",
        file.as_raw_fd(),
        pid()
    );
}

#[test]
fn a_map_iterator_walks_the_elements_of_its_map() {
    let loaded = iters::Objects::load();
    if !kernel().has(Feature::MapIterators) {
        let err = loaded.expect_err("a locked-down kernel loaded a map iterator");
        assert!(
            matches!(&err, ebpf_skeleton::Error::ProgramLoad { program, .. } if program == "dump_elem"),
            "{err}"
        );
        assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
        assert!(err.to_string().contains("locked down"), "{err}");
        return;
    }
    let objs = loaded.unwrap();
    let counts = &objs.maps.counts;
    for (k, v) in [(1u32, 10u64), (2, 20), (7, 70)] {
        counts.insert(&k, &v, UpdateFlags::ANY).unwrap();
    }
    let link = objs
        .programs
        .dump_elem
        .attach_iter(&IterOptions::map(counts))
        .unwrap();
    let elements: BTreeSet<(u64, u64)> = pairs(&link.read_iter_to_string().unwrap())
        .into_iter()
        .collect();
    assert_eq!(elements, BTreeSet::from([(1, 10), (2, 20), (7, 70)]));
    let LinkDetail::Iter { target, map_id, .. } = link.info().unwrap().detail else {
        panic!("an iterator link");
    };
    assert_eq!(target, "bpf_map_elem");
    assert_eq!(map_id, counts.info().id);

    // The map iterator needs its map.
    let err = objs
        .programs
        .dump_elem
        .attach_iter(&IterOptions::new())
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EBADF), "{err}");
}

/// A cgroup and its child, made for one test and removed when dropped.
struct Tree {
    parent: PathBuf,
    child: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.child);
        let _ = std::fs::remove_dir(&self.parent);
    }
}

fn inode(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir).unwrap().ino()
}

#[test]
fn a_cgroup_iterator_walks_in_each_order() {
    let loaded = iter_cgroup::Objects::load();
    if !kernel().at_least(6, 1) {
        let err = loaded.unwrap_err();
        assert!(err.to_string().contains("dump_cgroup"), "{err}");
        return;
    }
    let objs = loaded.unwrap();
    let parent = PathBuf::from(format!(
        "{}/ebpf-skeleton-iter-{}",
        cgroup2_root(),
        std::process::id()
    ));
    let tree = Tree {
        child: parent.join("child"),
        parent,
    };
    std::fs::create_dir(&tree.parent).unwrap();
    std::fs::create_dir(&tree.child).unwrap();
    let (parent_id, child_id) = (inode(&tree.parent), inode(&tree.child));
    let walk = |dir: &std::path::Path, order| -> Vec<u64> {
        let dir = File::open(dir).unwrap();
        let link = objs
            .programs
            .dump_cgroup
            .attach_iter(&IterOptions::cgroup(&dir, order))
            .unwrap();
        link.read_iter_to_string()
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect()
    };
    assert_eq!(walk(&tree.parent, CgroupIterOrder::SelfOnly), [parent_id]);
    assert_eq!(
        walk(&tree.parent, CgroupIterOrder::DescendantsPre),
        [parent_id, child_id]
    );
    assert_eq!(
        walk(&tree.parent, CgroupIterOrder::DescendantsPost),
        [child_id, parent_id]
    );
    let up = walk(&tree.child, CgroupIterOrder::AncestorsUp);
    assert_eq!(&up[..2], [child_id, parent_id]);
    assert_eq!(up.len(), 3, "child, parent, root: {up:?}");

    // By id, the same.
    let link = objs
        .programs
        .dump_cgroup
        .attach_iter(&IterOptions::cgroup_id(child_id, CgroupIterOrder::SelfOnly))
        .unwrap();
    assert_eq!(
        link.read_iter_to_string().unwrap().trim(),
        child_id.to_string()
    );
    let LinkDetail::Iter {
        cgroup_id,
        cgroup_order,
        ..
    } = link.info().unwrap().detail
    else {
        panic!("an iterator link");
    };
    assert_eq!((cgroup_id, cgroup_order), (child_id, 1));
}
