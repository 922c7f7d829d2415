//! Local storage keyed by what it belongs to: a socket (`SkStorage`, Linux
//! 5.2), a process named by a pidfd (`TaskStorage`, 5.11) and a file's
//! inode (`InodeStorage`, 5.10 with the BPF LSM). Each is written by Rust
//! and read by a program, and the other way round: the programs answer in
//! the entry Rust wrote, and create entries Rust then finds.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Command, Stdio};

use ebpf_skeleton::{ebpf_skeleton, Error, InodeStorage, SkStorage, TaskStorage, UpdateFlags};
use ebpf_skeleton_tests::cgroup2_root;
use ebpf_skeleton_tests::kernel::{assert_map_refused, kernel, Feature};

ebpf_skeleton!("../bpf/storage.bpf.o");
ebpf_skeleton!("../bpf/task_storage.bpf.o");
ebpf_skeleton!("../bpf/inode_storage.bpf.o");

use storage::types::Owned;

fn owned(from_user: u64) -> Owned {
    Owned {
        from_user,
        from_prog: 0,
        runs: 0,
    }
}

fn connected_pair() -> (UdpSocket, UdpSocket) {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.connect(rx.local_addr().unwrap()).unwrap();
    (tx, rx)
}

#[test]
fn socket_storage_between_rust_and_an_egress_program() {
    let objs = storage::Objects::load().expect("load");
    let cgroup = File::open(cgroup2_root()).unwrap();
    let _link = objs
        .programs
        .socket_egress
        .attach_cgroup(&cgroup)
        .expect("attach to the cgroup v2 root");
    let store: &SkStorage<Owned> = &objs.maps.sockets;

    // Rust writes, the program reads and answers.
    let (tx, rx) = connected_pair();
    store.insert(&tx, &owned(41), UpdateFlags::ANY).unwrap();
    for _ in 0..3 {
        tx.send(b"ping").unwrap();
    }
    let seen = store.get(&tx).unwrap().expect("the entry Rust wrote");
    assert_eq!((seen.from_user, seen.from_prog, seen.runs), (41, 42, 3));
    // Another socket's entry is its own: the receiver sent nothing.
    assert_eq!(store.get(&rx).unwrap(), None);

    // The program creates an entry, Rust reads it.
    let (other, _rx2) = connected_pair();
    assert_eq!(store.get(&other).unwrap(), None);
    let port = other.local_addr().unwrap().port();
    objs.bss.create_port.set(u32::from(port));
    other.send(b"one").unwrap();
    other.send(b"two").unwrap();
    let created = store
        .get(&other)
        .unwrap()
        .expect("the entry the program made");
    assert_eq!(
        (created.from_user, created.from_prog, created.runs),
        (0, 1, 2)
    );

    assert!(store.remove(&tx).unwrap());
    assert!(!store.remove(&tx).unwrap());
    assert_eq!(store.get(&tx).unwrap(), None);
    let err = store
        .insert(&tx, &owned(1), UpdateFlags::EXIST)
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");
}

/// A `cat` whose writes the task program sees: a line in, a line out.
struct Cat {
    child: std::process::Child,
    lines: BufReader<std::process::ChildStdout>,
}

impl Cat {
    fn spawn() -> Cat {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run cat");
        let lines = BufReader::new(child.stdout.take().unwrap());
        Cat { child, lines }
    }

    /// Sends a line and waits for cat to have written it back, so that its
    /// `write` (and the program on it) has run.
    fn echo(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut back = String::new();
        self.lines.read_line(&mut back).unwrap();
        assert_eq!(back.trim_end(), line);
    }
}

impl Drop for Cat {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[test]
fn task_storage_between_rust_and_a_tracepoint_program() {
    if !kernel().has(Feature::TaskStorage) {
        return assert_map_refused(task_storage::Objects::load(), "task_storage", "tasks");
    }
    let objs = task_storage::Objects::load().expect("load");
    let _link = objs.programs.task_write.attach().expect("attach");
    let store: &TaskStorage<task_storage::types::Owned> = &objs.maps.tasks;
    let owned = |from_user| task_storage::types::Owned {
        from_user,
        from_prog: 0,
        runs: 0,
    };
    let mut cat = Cat::spawn();
    let pidfd =
        TaskStorage::<task_storage::types::Owned>::pidfd(cat.child.id()).expect("pidfd_open");
    assert_eq!(store.get(&pidfd).unwrap(), None);

    // The program creates the entry on cat's first write; Rust reads it.
    objs.bss.target_tgid.set(cat.child.id());
    cat.echo("first");
    let created = store
        .get(&pidfd)
        .unwrap()
        .expect("the entry the program made");
    assert_eq!((created.from_user, created.from_prog), (0, 1));
    assert!(created.runs >= 1);

    // Rust writes, the program reads and answers on the next write.
    store
        .insert(&pidfd, &owned(99), UpdateFlags::EXIST)
        .unwrap();
    cat.echo("second");
    let seen = store.get(&pidfd).unwrap().unwrap();
    assert_eq!((seen.from_user, seen.from_prog), (99, 100));
    assert!(seen.runs >= 1);

    // This process has no entry; the entry goes with its process.
    let own = TaskStorage::<task_storage::types::Owned>::pidfd(std::process::id()).unwrap();
    assert_eq!(store.get(&own).unwrap(), None);
    drop(cat);
    assert_eq!(store.get(&pidfd).unwrap(), None);
}

#[test]
fn a_pidfd_of_no_process_is_an_error() {
    let err = TaskStorage::<u64>::pidfd(u32::MAX).unwrap_err();
    assert!(matches!(err, Error::Sys { .. }), "{err}");
    assert!(err.to_string().contains("pidfd"), "{err}");
}

/// Whether this kernel refuses LSM programs to everyone (locked down for
/// integrity or confidentiality), as this project's development machine is.
fn locked_down() -> bool {
    std::fs::read_to_string("/sys/kernel/security/lockdown")
        .is_ok_and(|mode| !mode.contains("[none]"))
}

#[test]
fn inode_storage_between_rust_and_an_lsm_program() {
    let path = std::env::temp_dir().join(format!("ebpf-skeleton-inode-{}", std::process::id()));
    std::fs::write(&path, b"x").unwrap();
    let specs = inode_storage::Specs::new().unwrap();
    let objs = match (specs.load(), locked_down()) {
        (Ok(objs), false) => objs,
        (Err(err), true) => {
            // The kernel refuses the LSM program; the map itself is still
            // usable from user space: load it without the program.
            assert_eq!(err.errno(), Some(libc::EPERM), "{err}");
            let mut specs = inode_storage::Specs::new().unwrap();
            specs.programs.file_open.autoload = false;
            let objs = specs.load().expect("load without the LSM program");
            inode_storage_from_user_space(&objs, &path);
            return std::fs::remove_file(&path).unwrap();
        }
        (Ok(_), true) => panic!("a locked-down kernel loaded an LSM program"),
        (Err(err), false) => panic!("{err}"),
    };
    let _link = objs
        .programs
        .file_open
        .attach()
        .expect("attach lsm/file_open");
    inode_storage_from_user_space(&objs, &path);
    let store = &objs.maps.inodes;
    let file = File::open(&path).unwrap();
    store
        .insert(
            &file,
            &inode_storage::types::Owned {
                from_user: 7,
                from_prog: 0,
            },
            UpdateFlags::ANY,
        )
        .unwrap();
    objs.bss.target_tgid.set(std::process::id());
    // Opening the file runs the program, which answers in the entry.
    drop(File::open(&path).unwrap());
    let seen = store.get(&file).unwrap().unwrap();
    assert_eq!((seen.from_user, seen.from_prog), (7, 8));
    std::fs::remove_file(&path).unwrap();
}

/// What needs no program: an entry belongs to the inode, not the
/// descriptor it was written through.
fn inode_storage_from_user_space(objs: &inode_storage::Objects, path: &std::path::Path) {
    let store: &InodeStorage<inode_storage::types::Owned> = &objs.maps.inodes;
    let (a, b) = (File::open(path).unwrap(), File::open(path).unwrap());
    let value = inode_storage::types::Owned {
        from_user: 5,
        from_prog: 6,
    };
    store.insert(&a, &value, UpdateFlags::ANY).unwrap();
    let through_b = store.get(&b).unwrap().expect("the inode's entry");
    assert_eq!((through_b.from_user, through_b.from_prog), (5, 6));
    assert!(store.remove(&b).unwrap());
    assert_eq!(store.get(&a).unwrap(), None);
}
