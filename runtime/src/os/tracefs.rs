//! Dynamic kprobe events made through tracefs (`kprobe_events`), for what
//! the kernel's kprobe PMU cannot say: a kretprobe's `maxactive`. Each
//! event is removed again when its handle drops.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU32, Ordering};

const KPROBE_EVENTS: &str = "/sys/kernel/tracing/kprobe_events";

/// Tells events of this process apart.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A kprobe event of this process, removed on drop.
#[derive(Debug)]
pub(crate) struct KprobeEvent {
    name: String,
}

impl KprobeEvent {
    /// Adds a kretprobe event on `function` (plus `offset`) that can track
    /// `maxactive` calls at once.
    pub(crate) fn kretprobe(function: &str, offset: u64, maxactive: u32) -> io::Result<Self> {
        let name = format!(
            "ebpf_skeleton_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let place = match offset {
            0 => function.to_owned(),
            off => format!("{function}+{off}"),
        };
        append(&format!("r{maxactive}:kprobes/{name} {place}\n"))?;
        Ok(KprobeEvent { name })
    }

    /// The event's name: its tracepoint is `kprobes:NAME`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for KprobeEvent {
    fn drop(&mut self) {
        if let Err(e) = append(&format!("-:kprobes/{}\n", self.name)) {
            log::warn!("removing kprobe event {}: {e}", self.name);
        }
    }
}

/// Writes `line` to kprobe_events without truncating it (which would remove
/// every event).
fn append(line: &str) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(KPROBE_EVENTS)?
        .write_all(line.as_bytes())
}
