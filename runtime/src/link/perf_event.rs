//! Opening perf events for `perf_event` programs (and for tracepoint
//! programs attached through a perf event), typed: software and hardware
//! counters, tracepoints, on one thread or on every thread of one CPU,
//! sampled every so many events or so many times a second.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::os::perf_event::{open as perf_event_open, read_count};

/// A software event the kernel counts (`PERF_TYPE_SOFTWARE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SoftwareEvent {
    /// Time on a CPU, from the CPU's clock (`cpu-clock`).
    CpuClock,
    /// Time the task runs (`task-clock`).
    TaskClock,
    /// Page faults.
    PageFaults,
    /// Context switches.
    ContextSwitches,
    /// Moves of the task to another CPU.
    CpuMigrations,
    /// Minor page faults (no I/O).
    MinorPageFaults,
    /// Major page faults (with I/O).
    MajorPageFaults,
    /// Unaligned accesses the kernel fixed up.
    AlignmentFaults,
    /// Instructions the kernel emulated.
    EmulationFaults,
    /// An event that counts nothing (for its side records).
    Dummy,
}

/// A hardware event the CPU counts (`PERF_TYPE_HARDWARE`); a machine
/// without a performance monitoring unit, such as most VMs, has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HardwareEvent {
    /// CPU cycles.
    CpuCycles,
    /// Instructions retired.
    Instructions,
    /// Cache accesses (usually of the last level).
    CacheReferences,
    /// Cache misses (usually of the last level).
    CacheMisses,
    /// Branch instructions retired.
    BranchInstructions,
    /// Mispredicted branches.
    BranchMisses,
    /// Bus cycles.
    BusCycles,
    /// Cycles not scaled by frequency changes.
    RefCpuCycles,
}

/// What to open.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Typed {
        event_type: u32,
        config: u64,
    },
    /// A tracepoint by `category:name`, its id read from tracefs at open.
    Tracepoint {
        category: String,
        name: String,
    },
}

/// How often the event runs its program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sample {
    /// Every `n` events (for clocks: nanoseconds).
    Period(u64),
    /// About `n` times a second; the kernel adjusts the period.
    Frequency(u64),
}

/// A perf event to open: which event, whose, on which CPU, how often.
/// By default: the calling thread, on any CPU, every event.
///
/// ```no_run
/// use ebpf_skeleton::link::{PerfEventSpec, SoftwareEvent};
/// # fn example(program: &ebpf_skeleton::Program) -> ebpf_skeleton::Result<()> {
/// // 99 times a second on CPU 0, whatever runs there.
/// let event = PerfEventSpec::software(SoftwareEvent::CpuClock)
///     .all_threads_on_cpu(0)
///     .sample_frequency(99)
///     .open()?;
/// let _link = program.attach_perf_event(event)?;
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerfEventSpec {
    event: Event,
    sample: Sample,
    pid: libc::pid_t,
    cpu: libc::c_int,
    inherit: bool,
}

impl PerfEventSpec {
    fn new(event: Event) -> Self {
        PerfEventSpec {
            event,
            sample: Sample::Period(1),
            pid: 0,
            cpu: -1,
            inherit: false,
        }
    }

    /// A software event.
    pub fn software(event: SoftwareEvent) -> Self {
        use SoftwareEvent::*;
        let config = match event {
            CpuClock => sys::PERF_COUNT_SW_CPU_CLOCK,
            TaskClock => sys::PERF_COUNT_SW_TASK_CLOCK,
            PageFaults => sys::PERF_COUNT_SW_PAGE_FAULTS,
            ContextSwitches => sys::PERF_COUNT_SW_CONTEXT_SWITCHES,
            CpuMigrations => sys::PERF_COUNT_SW_CPU_MIGRATIONS,
            MinorPageFaults => sys::PERF_COUNT_SW_PAGE_FAULTS_MIN,
            MajorPageFaults => sys::PERF_COUNT_SW_PAGE_FAULTS_MAJ,
            AlignmentFaults => sys::PERF_COUNT_SW_ALIGNMENT_FAULTS,
            EmulationFaults => sys::PERF_COUNT_SW_EMULATION_FAULTS,
            Dummy => sys::PERF_COUNT_SW_DUMMY,
        };
        Self::raw(sys::PERF_TYPE_SOFTWARE, config as u64)
    }

    /// A hardware event.
    pub fn hardware(event: HardwareEvent) -> Self {
        use HardwareEvent::*;
        let config = match event {
            CpuCycles => sys::PERF_COUNT_HW_CPU_CYCLES,
            Instructions => sys::PERF_COUNT_HW_INSTRUCTIONS,
            CacheReferences => sys::PERF_COUNT_HW_CACHE_REFERENCES,
            CacheMisses => sys::PERF_COUNT_HW_CACHE_MISSES,
            BranchInstructions => sys::PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
            BranchMisses => sys::PERF_COUNT_HW_BRANCH_MISSES,
            BusCycles => sys::PERF_COUNT_HW_BUS_CYCLES,
            RefCpuCycles => sys::PERF_COUNT_HW_REF_CPU_CYCLES,
        };
        Self::raw(sys::PERF_TYPE_HARDWARE, config as u64)
    }

    /// The tracepoint `category:name` (as listed under
    /// /sys/kernel/tracing/events), for a `tracepoint` program.
    pub fn tracepoint(category: impl Into<String>, name: impl Into<String>) -> Self {
        Self::new(Event::Tracepoint {
            category: category.into(),
            name: name.into(),
        })
    }

    /// Any event by its `perf_event_attr` type and config (`PERF_TYPE_RAW`,
    /// a PMU's dynamic type from /sys/bus/event_source/devices, ...).
    pub fn raw(event_type: u32, config: u64) -> Self {
        Self::new(Event::Typed { event_type, config })
    }

    /// Runs the program every `period` events (for clocks, every `period`
    /// nanoseconds); the default is every event.
    pub fn sample_period(mut self, period: u64) -> Self {
        self.sample = Sample::Period(period);
        self
    }

    /// Runs the program about `hz` times a second (the kernel adjusts the
    /// period to the event's rate).
    pub fn sample_frequency(mut self, hz: u64) -> Self {
        self.sample = Sample::Frequency(hz);
        self
    }

    /// Counts the thread `tid` only (a process id names its main thread),
    /// on any CPU unless [`PerfEventSpec::cpu`] says otherwise.
    pub fn thread(mut self, tid: libc::pid_t) -> Self {
        self.pid = tid;
        self
    }

    /// Counts the thread `tid` and the threads and processes it creates
    /// after the event is opened.
    pub fn thread_and_children(mut self, tid: libc::pid_t) -> Self {
        self.pid = tid;
        self.inherit = true;
        self
    }

    /// Counts only while the thread runs on `cpu`.
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = cpu as libc::c_int;
        self
    }

    /// Counts every thread that runs on `cpu` (needs `CAP_PERFMON` or
    /// `CAP_SYS_ADMIN`).
    pub fn all_threads_on_cpu(mut self, cpu: u32) -> Self {
        self.pid = -1;
        self.cpu = cpu as libc::c_int;
        self
    }

    /// Opens the event, enabled.
    pub fn open(&self) -> Result<PerfEventFd> {
        let attr = self.attr()?;
        let fd = perf_event_open(&attr, self.pid, self.cpu)
            .map_err(|source| Error::sys(format!("opening {self}"), source))?;
        Ok(PerfEventFd {
            fd,
            what: self.to_string(),
        })
    }

    /// Opens the event once on each online CPU, for every thread there:
    /// what a program needs to see a system-wide event.
    pub fn open_on_each_cpu(&self) -> Result<Vec<PerfEventFd>> {
        let cpus = crate::os::cpus::online_cpus()
            .map_err(|source| Error::sys("reading the online CPUs", source))?;
        cpus.into_iter()
            .map(|cpu| self.clone().all_threads_on_cpu(cpu).open())
            .collect()
    }

    fn attr(&self) -> Result<sys::perf_event_attr> {
        let (event_type, config) = match &self.event {
            Event::Typed { event_type, config } => (*event_type, *config),
            Event::Tracepoint { category, name } => (
                sys::PERF_TYPE_TRACEPOINT,
                tracepoint_id(category, name).map_err(|source| {
                    Error::sys(format!("opening {self}: {}", missing_tracepoint()), source)
                })?,
            ),
        };
        let mut attr = sys::perf_event_attr {
            type_: event_type,
            size: size_of::<sys::perf_event_attr>() as u32,
            config,
            ..Default::default()
        };
        match self.sample {
            Sample::Period(n) => attr.__bindgen_anon_1.sample_period = n,
            Sample::Frequency(hz) => {
                attr.set_freq(1);
                attr.__bindgen_anon_1.sample_freq = hz;
            }
        }
        attr.set_inherit(self.inherit as u64);
        Ok(attr)
    }
}

impl fmt::Display for PerfEventSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.event {
            Event::Tracepoint { category, name } => {
                write!(f, "the perf event of tracepoint `{category}:{name}`")?
            }
            Event::Typed { event_type, config } => {
                write!(f, "the perf event {}", event_name(*event_type, *config))?
            }
        }
        match (self.pid, self.cpu) {
            (-1, cpu) => write!(f, " of every thread on CPU {cpu}"),
            (0, -1) => write!(f, " of the calling thread"),
            (0, cpu) => write!(f, " of the calling thread on CPU {cpu}"),
            (tid, -1) => write!(f, " of thread {tid}"),
            (tid, cpu) => write!(f, " of thread {tid} on CPU {cpu}"),
        }
    }
}

/// How errors name an event.
fn event_name(event_type: u32, config: u64) -> String {
    const SOFTWARE: &[&str] = &[
        "cpu-clock",
        "task-clock",
        "page-faults",
        "context-switches",
        "cpu-migrations",
        "minor-faults",
        "major-faults",
        "alignment-faults",
        "emulation-faults",
        "dummy",
    ];
    const HARDWARE: &[&str] = &[
        "cpu-cycles",
        "instructions",
        "cache-references",
        "cache-misses",
        "branch-instructions",
        "branch-misses",
        "bus-cycles",
        "stalled-cycles-frontend",
        "stalled-cycles-backend",
        "ref-cycles",
    ];
    let known = match event_type {
        sys::PERF_TYPE_SOFTWARE => SOFTWARE.get(config as usize),
        sys::PERF_TYPE_HARDWARE => HARDWARE.get(config as usize),
        _ => None,
    };
    match known {
        Some(name) => format!("`{name}`"),
        None => format!("of type {event_type}, config {config:#x}"),
    }
}

/// The id of tracepoint `category:name`, from tracefs, or an error that
/// says why there is none.
fn tracepoint_id(category: &str, name: &str) -> io::Result<u64> {
    crate::os::perf_event::tracepoint_id(category, name)
}

/// Why a tracepoint's id could not be read. Said beside the error, which
/// keeps the kernel's errno for [`Error::errno`].
fn missing_tracepoint() -> &'static str {
    if std::path::Path::new("/sys/kernel/tracing/events").exists() {
        "no such tracepoint under /sys/kernel/tracing/events"
    } else {
        "tracefs is not mounted at /sys/kernel/tracing"
    }
}

/// An open perf event: a descriptor that [`Program::attach_perf_event`]
/// takes over, and whose count can be read.
///
/// [`Program::attach_perf_event`]: crate::Program::attach_perf_event
#[derive(Debug)]
pub struct PerfEventFd {
    fd: OwnedFd,
    what: String,
}

impl PerfEventFd {
    /// The event's count so far (for clocks: nanoseconds).
    pub fn count(&self) -> Result<u64> {
        read_count(self.fd.as_fd())
            .map_err(|source| Error::sys(format!("reading the count of {}", self.what), source))
    }

    /// What the event is, as errors name it.
    pub(crate) fn describe(&self) -> &str {
        &self.what
    }
}

impl From<OwnedFd> for PerfEventFd {
    /// A perf event opened by other means.
    fn from(fd: OwnedFd) -> PerfEventFd {
        PerfEventFd {
            fd,
            what: "a perf event".to_owned(),
        }
    }
}

impl AsFd for PerfEventFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl From<PerfEventFd> for OwnedFd {
    fn from(event: PerfEventFd) -> OwnedFd {
        event.fd
    }
}
