//! Helpers shared by the kernel tests (and the benchmark): triggering
//! syscalls, running programs with `BPF_PROG_TEST_RUN`, checking the records
//! of `tests/bpf/records.h`, counting a process's descriptors and mappings,
//! and reading what the kernel counted.

use std::time::{Duration, Instant};

pub mod kconfig;
pub mod kernel;
pub mod net;
pub mod objects;

use ebpf_skeleton::Program;

/// Calls getppid(2) `n` times from the current thread, bypassing libc so no
/// call is cached or skipped.
pub fn getppid_n(n: u64) {
    for _ in 0..n {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

/// The calling thread's id, which the test programs key their counters by.
pub fn tid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() as u32 }
}

/// The most arguments a `raw_tp` context holds (the kernel's
/// `MAX_BPF_FUNC_ARGS`).
const RAW_TP_ARGS: usize = 12;

/// A `raw_tp` program's context: `args` as native-endian bytes, padded with
/// zeros to the most arguments a raw tracepoint has, so that a program
/// reading an argument not given reads 0 (the kernel copies only the bytes
/// given).
pub fn raw_tp_context(args: &[u64]) -> Vec<u8> {
    assert!(args.len() <= RAW_TP_ARGS, "at most {RAW_TP_ARGS} arguments");
    let mut ctx = vec![0u8; RAW_TP_ARGS * 8];
    for (slot, arg) in ctx.chunks_exact_mut(8).zip(args) {
        slot.copy_from_slice(&arg.to_ne_bytes());
    }
    ctx
}

/// Runs a `raw_tp` program once with `BPF_PROG_TEST_RUN`, `args` its
/// context; returns the program's return value.
pub fn run(prog: &Program, args: &[u64]) -> u32 {
    prog.test_run(Some(&raw_tp_context(args)))
        .unwrap_or_else(|err| panic!("{err}"))
}

/// Like [`run`], on the CPU `cpu`.
pub fn run_on(prog: &Program, cpu: u32, args: &[u64]) -> u32 {
    prog.test_run_on_cpu(Some(&raw_tp_context(args)), cpu)
        .unwrap_or_else(|err| panic!("{err} (on CPU {cpu})"))
}

/// The sequence number a record of `tests/bpf/records.h` starts with.
pub fn seq_of(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes[..8].try_into().expect("a record of 8 bytes or more"))
}

/// The checksum records.h ends a record with, over the words before it.
pub fn checksum(words: &[u64]) -> u64 {
    words.iter().fold(0xcbf29ce484222325, |sum, &w| {
        (sum ^ w).wrapping_mul(0x100000001b3)
    })
}

/// Word `i` of the record `seq`, as records.h fills it.
fn fill(seq: u64, i: u64) -> u64 {
    (seq + 1).wrapping_mul(0x9e3779b97f4a7c15) ^ (i << 56 | i)
}

/// Checks the data of one record as records.h writes it (`bytes` without
/// any padding): its sequence number, every word, and the checksum over
/// what arrived. `what` names it in failures ("record", "sample").
pub fn check_record_data(bytes: &[u8], seq: u64, what: &str) {
    let words: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|w| u64::from_ne_bytes(w.try_into().unwrap()))
        .collect();
    let last = words.len() - 1;
    assert_eq!(words[0], seq, "sequence number");
    for (i, &w) in words.iter().enumerate().take(last).skip(1) {
        assert_eq!(w, fill(seq, i as u64), "{what} {seq}, word {i}");
    }
    assert_eq!(
        words[last],
        checksum(&words[..last]),
        "{what} {seq}: checksum"
    );
}

/// Runs `test` alone in a child process (this test binary, filtered to the
/// test `name`), so that it can count the process's descriptors and
/// mappings ([`open_fds`], [`mappings`]) without other tests' threads
/// changing them.
pub fn in_own_process(name: &str, test: impl FnOnce()) {
    const ALONE: &str = "EBPF_SKELETON_TEST_ALONE";
    if std::env::var_os(ALONE).is_some() {
        return test();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(ALONE, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{name} failed in its own process ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Held (shared) by a test while it starts a child process, and
/// exclusively by a test that counts what happens when the last reference
/// to one of its descriptors goes.
///
/// The tests of one binary are threads of one process: a child started by
/// one holds a copy of every descriptor until it execs, so a socket another
/// test drops meanwhile is released later, by the child's exec, on a thread
/// the dropping test's program does not count.
pub static CHILDREN: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Runs `f` while no test of this binary starts a child process (see
/// [`CHILDREN`]).
pub fn without_children<T>(f: impl FnOnce() -> T) -> T {
    let _alone = CHILDREN.write().unwrap_or_else(|e| e.into_inner());
    f()
}

/// Runs `f`, which starts a child process, while no test counts a
/// descriptor's last close (see [`CHILDREN`]).
pub fn starting_children<T>(f: impl FnOnce() -> T) -> T {
    let _shared = CHILDREN.read().unwrap_or_else(|e| e.into_inner());
    f()
}

/// Copies the executable `from` to `to` (mode 0755) in a child process.
///
/// Writing it here would leave a writable descriptor to `to` that a child
/// another test is starting inherits until its exec; running `to` in that
/// window fails with ETXTBSY ("Text file busy"). A writer in its own
/// process takes its descriptor with it when it exits.
pub fn copy_executable(from: &std::path::Path, to: &std::path::Path) {
    let status = std::process::Command::new("install")
        .args(["-m", "0755"])
        .arg(from)
        .arg(to)
        .status()
        .expect("run install(1)");
    assert!(
        status.success(),
        "install {} {}: {status}",
        from.display(),
        to.display()
    );
}

/// How many descriptors the process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// How many mappings the process has.
pub fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

/// Reads a native-endian u64 map value.
pub fn u64_value(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes[..8].try_into().expect("an 8-byte value"))
}

/// Waits until `done` holds or `timeout` passes; returns whether it held.
/// For kernel state that settles asynchronously (freeing a program after its
/// last reference goes is deferred by RCU).
pub fn eventually(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

/// Whether the kernel still has a program with this id.
pub fn program_exists(id: u32) -> bool {
    // SAFETY: a plain syscall wrapper; a returned fd is closed right away.
    let fd = unsafe { ebpf_skeleton::libbpf_sys::bpf_prog_get_fd_by_id(id) };
    if fd >= 0 {
        // SAFETY: we own the fd just returned.
        unsafe { libc::close(fd) };
        true
    } else {
        false
    }
}

/// Whether the kernel still has a map with this id.
pub fn map_exists(id: u32) -> bool {
    // SAFETY: as in `program_exists`.
    let fd = unsafe { ebpf_skeleton::libbpf_sys::bpf_map_get_fd_by_id(id) };
    if fd >= 0 {
        // SAFETY: we own the fd just returned.
        unsafe { libc::close(fd) };
        true
    } else {
        false
    }
}

/// A struct's layout as libbpf reads it from an object's BTF: an
/// independent reading to compare generated Rust layouts against.
pub struct BtfLayout {
    /// Size in bytes.
    pub size: usize,
    /// Member names and bit offsets.
    pub members: Vec<(String, usize)>,
}

impl BtfLayout {
    /// The bit offset of `member`.
    pub fn offset_of(&self, member: &str) -> Option<usize> {
        self.members
            .iter()
            .find(|(n, _)| n == member)
            .map(|&(_, o)| o)
    }
}

/// Reads the struct or typedef'd struct `name` from an object with libbpf
/// (its own BTF parser, after its open-time fixups).
pub fn btf_layout(object: &[u8], name: &str) -> BtfLayout {
    use ebpf_skeleton::libbpf_sys as sys;
    use std::ffi::{CStr, CString};
    // SAFETY: libbpf opens the object from the bytes, which outlive it; the
    // object (and its BTF) is closed below, after every pointer read from it
    // is used.
    unsafe {
        let obj =
            sys::bpf_object__open_mem(object.as_ptr().cast(), object.len() as _, std::ptr::null());
        assert!(!obj.is_null(), "libbpf could not open the object");
        let btf = sys::bpf_object__btf(obj);
        assert!(!btf.is_null(), "the object has no BTF");
        let c_name = CString::new(name).unwrap();
        let mut id = sys::btf__find_by_name(btf, c_name.as_ptr());
        assert!(id > 0, "no BTF type named {name}");
        let mut t = sys::btf__type_by_id(btf, id as u32);
        while ((*t).info >> 24) & 0x1f == sys::BTF_KIND_TYPEDEF {
            id = (*t).__bindgen_anon_1.type_ as i32;
            t = sys::btf__type_by_id(btf, id as u32);
        }
        let size = (*t).__bindgen_anon_1.size as usize;
        let vlen = ((*t).info & 0xffff) as usize;
        let kind_flag = (*t).info >> 31 == 1;
        let members = std::slice::from_raw_parts(t.add(1).cast::<sys::btf_member>(), vlen);
        let members = members
            .iter()
            .map(|m| {
                let name = CStr::from_ptr(sys::btf__name_by_offset(btf, m.name_off))
                    .to_string_lossy()
                    .into_owned();
                let offset = if kind_flag {
                    m.offset & 0xffffff
                } else {
                    m.offset
                };
                (name, offset as usize)
            })
            .collect();
        sys::bpf_object__close(obj);
        BtfLayout { size, members }
    }
}

/// The names of every program in the kernel, as `bpftool prog` lists them
/// (truncated by the kernel to 15 bytes).
pub fn kernel_program_names() -> Vec<String> {
    use ebpf_skeleton::libbpf_sys as sys;
    kernel_names(
        |id, next| unsafe { sys::bpf_prog_get_next_id(id, next) },
        |id| unsafe { sys::bpf_prog_get_fd_by_id(id) },
        |fd| {
            let mut info = sys::bpf_prog_info::default();
            let mut len = std::mem::size_of_val(&info) as u32;
            // SAFETY: `info` is writable for `len` bytes.
            unsafe { sys::bpf_prog_get_info_by_fd(fd, &mut info, &mut len) };
            c_name(&info.name)
        },
    )
}

/// The names of every map in the kernel (truncated to 15 bytes).
pub fn kernel_map_names() -> Vec<String> {
    use ebpf_skeleton::libbpf_sys as sys;
    kernel_names(
        |id, next| unsafe { sys::bpf_map_get_next_id(id, next) },
        |id| unsafe { sys::bpf_map_get_fd_by_id(id) },
        |fd| {
            let mut info = sys::bpf_map_info::default();
            let mut len = std::mem::size_of_val(&info) as u32;
            // SAFETY: `info` is writable for `len` bytes.
            unsafe { sys::bpf_map_get_info_by_fd(fd, &mut info, &mut len) };
            c_name(&info.name)
        },
    )
}

/// The ids and names of the programs this process holds a descriptor of
/// (read from `/proc/self/fd`): what this process loaded, whatever other
/// processes load meanwhile.
pub fn own_programs() -> Vec<(u32, String)> {
    use ebpf_skeleton::libbpf_sys as sys;
    own_objects("anon_inode:bpf-prog", |fd| {
        let mut info = sys::bpf_prog_info::default();
        let mut len = std::mem::size_of_val(&info) as u32;
        // SAFETY: `info` is writable for `len` bytes.
        let rc = unsafe { sys::bpf_prog_get_info_by_fd(fd, &mut info, &mut len) };
        (rc == 0).then(|| (info.id, c_name(&info.name)))
    })
}

/// The ids and names of the maps this process holds a descriptor of.
pub fn own_maps() -> Vec<(u32, String)> {
    use ebpf_skeleton::libbpf_sys as sys;
    own_objects("anon_inode:bpf-map", |fd| {
        let mut info = sys::bpf_map_info::default();
        let mut len = std::mem::size_of_val(&info) as u32;
        // SAFETY: `info` is writable for `len` bytes.
        let rc = unsafe { sys::bpf_map_get_info_by_fd(fd, &mut info, &mut len) };
        (rc == 0).then(|| (info.id, c_name(&info.name)))
    })
}

fn own_objects(kind: &str, info: impl Fn(i32) -> Option<(u32, String)>) -> Vec<(u32, String)> {
    let mut found: Vec<(u32, String)> = std::fs::read_dir("/proc/self/fd")
        .expect("procfs")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            if target.to_str() != Some(kind) {
                return None;
            }
            info(entry.file_name().to_str()?.parse().ok()?)
        })
        .collect();
    // Several descriptors of one object count once.
    found.sort();
    found.dedup();
    found
}

fn kernel_names(
    next: impl Fn(u32, &mut u32) -> i32,
    open: impl Fn(u32) -> i32,
    name: impl Fn(i32) -> String,
) -> Vec<String> {
    let (mut id, mut names) = (0u32, Vec::new());
    let mut following = 0u32;
    while next(id, &mut following) == 0 {
        id = following;
        let fd = open(id);
        if fd >= 0 {
            names.push(name(fd));
            // SAFETY: we own the fd just opened.
            unsafe { libc::close(fd) };
        }
    }
    names
}

fn c_name(raw: &[std::os::raw::c_char]) -> String {
    let bytes: Vec<u8> = raw
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Where cgroup v2 is mounted (`/sys/fs/cgroup` or, beside v1, its
/// `unified` directory).
pub fn cgroup2_root() -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    mounts
        .lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let (_, dir, fs) = (f.next()?, f.next()?, f.next()?);
            (fs == "cgroup2").then(|| dir.to_owned())
        })
        .expect("cgroup v2 is mounted")
}

/// The cgroup v2 directory this process is in (from `/proc/self/cgroup`).
pub fn own_cgroup() -> String {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = cgroups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("this process is in a cgroup v2");
    format!("{}{}", cgroup2_root(), path.trim_end_matches('/'))
}

/// The file offset of the symbol `name` of the ELF file `binary` (what a
/// uprobe or a reference counter given by offset names): its address less
/// that of the segment holding it, plus the segment's offset in the file.
pub fn file_offset(binary: &std::path::Path, name: &str) -> u64 {
    use object::{Object, ObjectSegment, ObjectSymbol};
    let data = std::fs::read(binary).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let address = file
        .symbols()
        .find(|s| s.name() == Ok(name))
        .unwrap_or_else(|| panic!("no symbol {name} in {}", binary.display()))
        .address();
    let segment = file
        .segments()
        .find(|s| (s.address()..s.address() + s.size()).contains(&address))
        .unwrap_or_else(|| panic!("no segment holds {name}"));
    let (offset, _) = segment.file_range();
    address - segment.address() + offset
}

/// A symbol's address as /proc/kallsyms gives it (libbpf reads the same
/// file for typeless ksyms).
pub fn kallsyms_address(name: &str) -> Option<u64> {
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").expect("read /proc/kallsyms");
    kallsyms.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let (addr, _kind, sym) = (words.next()?, words.next()?, words.next()?);
        (sym == name).then(|| u64::from_str_radix(addr, 16).expect("a hex address"))
    })
}

/// A logger that keeps what is logged under one target, as `LEVEL text`
/// lines (install it with `log::set_logger`).
pub struct KeptLog {
    target: &'static str,
    /// What was logged, in order.
    pub lines: std::sync::Mutex<Vec<String>>,
}

impl KeptLog {
    /// A logger keeping what is logged under `target`.
    pub const fn new(target: &'static str) -> Self {
        KeptLog {
            target,
            lines: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl log::Log for KeptLog {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.target() == self.target
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.lines
                .lock()
                .unwrap()
                .push(format!("{} {}", record.level(), record.args()));
        }
    }
    fn flush(&self) {}
}
