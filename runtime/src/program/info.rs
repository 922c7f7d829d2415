//! What the kernel says about a loaded program (`bpftool prog show`,
//! typed), and switching on its run statistics.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, SystemTime};

use libbpf_sys as sys;

use super::{Program, ProgramType};
use crate::error::{Error, Result};
use crate::libbpf::prog_info;
use crate::os::errno::check;

/// A program as the kernel describes it ([`Program::info`]), as
/// `bpftool prog show` prints it.
///
/// ```no_run
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let info = program.info()?;
/// let tag: String = info.tag.iter().map(|b| format!("{b:02x}")).collect();
/// println!(
///     "{}: {} {:?} tag {tag}, {} B translated, {} B JITed, maps {:?}",
///     info.id, info.name, info.program_type, info.translated_size, info.jited_size, info.map_ids
/// );
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgramInfo {
    /// The kernel's id for the program.
    pub id: u32,
    /// Its name (at most 15 characters).
    pub name: String,
    /// Its type.
    pub program_type: ProgramType,
    /// The tag: a hash of its instructions (SHA-1 before Linux 6.18,
    /// SHA-256 since), as bpftool prints it.
    pub tag: [u8; 8],
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// The user that loaded it.
    pub created_by_uid: u32,
    /// The maps it uses.
    pub map_ids: Vec<u32>,
    /// Its size after JIT compilation, in bytes (0 when not JITed or hidden).
    pub jited_size: u32,
    /// Its size as the kernel rewrote it, in bytes.
    pub translated_size: u32,
    /// Instructions the verifier processed to prove it safe.
    pub verified_instructions: u32,
    /// How many times it ran while run statistics were on
    /// ([`enable_stats`]).
    pub run_count: u64,
    /// How long those runs took in all.
    pub run_time: Duration,
    /// Runs skipped because it was already running on that CPU.
    pub recursion_misses: u64,
    /// The id of its BTF object, 0 for none.
    pub btf_id: u32,
    /// Whether its license is GPL-compatible.
    pub gpl_compatible: bool,
}

impl Program {
    /// What the kernel says about the program now (run counts change), read
    /// anew at each call.
    ///
    /// ```no_run
    /// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
    /// let info = program.info()?;
    /// println!("{} (id {}) uses the maps {:?}", info.name, info.id, info.map_ids);
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn info(&self) -> Result<ProgramInfo> {
        let fd = self.fd()?;
        info_of(fd).map_err(|source| {
            Error::sys(format!("reading info of program `{}`", self.name), source)
        })
    }
}

/// The info of the program behind `fd`, map ids included.
pub(crate) fn info_of(fd: BorrowedFd<'_>) -> std::io::Result<ProgramInfo> {
    let first = prog_info(fd)?;
    let mut map_ids = vec![0u32; first.nr_map_ids as usize];
    if !map_ids.is_empty() {
        // A second call with room for the map ids (only they are asked for).
        let mut info = sys::bpf_prog_info {
            nr_map_ids: map_ids.len() as u32,
            map_ids: map_ids.as_mut_ptr() as u64,
            ..Default::default()
        };
        let mut len = size_of::<sys::bpf_prog_info>() as u32;
        // SAFETY: `info` is writable for `len` bytes and `map_ids` for
        // `nr_map_ids` u32s.
        check(unsafe { sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) })?;
        map_ids.truncate(info.nr_map_ids as usize);
    }
    Ok(ProgramInfo {
        id: first.id,
        name: crate::os::c_name(&first.name),
        program_type: ProgramType(first.type_),
        tag: first.tag,
        loaded_at: since_boot(Duration::from_nanos(first.load_time)),
        created_by_uid: first.created_by_uid,
        map_ids,
        jited_size: first.jited_prog_len,
        translated_size: first.xlated_prog_len,
        verified_instructions: first.verified_insns,
        run_count: first.run_cnt,
        run_time: Duration::from_nanos(first.run_time_ns),
        recursion_misses: first.recursion_misses,
        btf_id: first.btf_id,
        gpl_compatible: first.gpl_compatible() != 0,
    })
}

/// The wall-clock time of `since` after boot (the kernel's load times count
/// from boot, suspend included).
fn since_boot(since: Duration) -> SystemTime {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to fill.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) } == 0;
    let uptime = if ok {
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    } else {
        since
    };
    SystemTime::now() - uptime.saturating_sub(since)
}

/// The kernel's run statistics (run counts and times of every program),
/// on while this guard lives: they cost a little on every run, so the
/// kernel keeps them off unless asked (`BPF_ENABLE_STATS`). Made by
/// [`enable_stats`].
#[derive(Debug)]
#[must_use = "statistics are off again once the guard drops"]
pub struct StatsGuard {
    _fd: OwnedFd,
}

/// Switches on the kernel's run statistics until the guard drops (and no
/// one else, e.g. `sysctl kernel.bpf_stats_enabled`, keeps them on).
/// Needs `CAP_SYS_ADMIN`.
///
/// ```no_run
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// let before = program.info()?;
/// {
///     let _stats = ebpf_skeleton::enable_stats()?;
///     std::thread::sleep(std::time::Duration::from_secs(1));
/// } // off again here (unless someone else keeps them on)
/// let after = program.info()?;
/// let runs = after.run_count - before.run_count;
/// let time = after.run_time - before.run_time;
/// println!("{runs} runs in the second, {time:?} in all");
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
pub fn enable_stats() -> Result<StatsGuard> {
    // SAFETY: a plain system call; the fd is owned right away.
    let fd = check(unsafe { sys::bpf_enable_stats(sys::BPF_STATS_RUN_TIME) })
        .map_err(|source| Error::sys("enabling BPF run statistics", source))?;
    Ok(StatsGuard {
        // SAFETY: the kernel just returned this fd to us.
        _fd: unsafe { OwnedFd::from_raw_fd(fd) },
    })
}
