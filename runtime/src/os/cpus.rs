//! The kernel's CPU lists: possible CPUs (per-CPU maps hold a value for
//! each) and online CPUs (where perf rings are opened).

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

const POSSIBLE: &str = "/sys/devices/system/cpu/possible";
const ONLINE: &str = "/sys/devices/system/cpu/online";

/// The number of CPUs the kernel may ever bring up, from
/// `/sys/devices/system/cpu/possible`. A successful answer is kept (the set
/// never changes while the system runs); a failure is returned, never kept,
/// so that the next call tries again.
pub(crate) fn possible_cpus() -> io::Result<usize> {
    static CPUS: AtomicUsize = AtomicUsize::new(0);
    let known = CPUS.load(Ordering::Relaxed);
    if known > 0 {
        return Ok(known);
    }
    let cpus = read_list(POSSIBLE)?.len();
    if cpus == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{POSSIBLE} lists no CPU"),
        ));
    }
    CPUS.store(cpus, Ordering::Relaxed);
    Ok(cpus)
}

/// The CPUs that are online, from `/sys/devices/system/cpu/online`.
pub(crate) fn online_cpus() -> io::Result<Vec<u32>> {
    read_list(ONLINE)
}

fn read_list(path: &str) -> io::Result<Vec<u32>> {
    // The caller says what was read; the errno stays the OS's.
    let text = std::fs::read_to_string(path)?;
    parse_cpu_list(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot parse the CPU list {:?} of {path}", text.trim()),
        )
    })
}

/// Parses a kernel CPU list such as `0-3,5,7-8`.
fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to): (u32, u32) = (from.trim().parse().ok()?, to.trim().parse().ok()?);
                if from > to {
                    return None;
                }
                cpus.extend(from..=to);
            }
            None => cpus.push(part.trim().parse().ok()?),
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("0\n"), Some(vec![0]));
        assert_eq!(
            parse_cpu_list("0-3,5,7-8\n"),
            Some(vec![0, 1, 2, 3, 5, 7, 8])
        );
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
    }
}
