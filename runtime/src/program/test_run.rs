//! `BPF_PROG_TEST_RUN`: running a program in the kernel on input of the
//! caller's, for unit tests of XDP, tc, socket and tracing programs.

use std::os::fd::AsRawFd;
use std::time::Duration;

use libbpf_sys as sys;

use super::Program;
use crate::error::{Error, Result};
use crate::os::errno::check;

/// What to run a program on: a packet (`data`), a context (`ctx`), how many
/// times, where, with which flags.
///
/// ```no_run
/// use ebpf_skeleton::TestRun;
/// # fn example(xdp: &ebpf_skeleton::Program, packet: &[u8]) -> ebpf_skeleton::Result<()> {
/// let run = xdp.test_run_with(&TestRun::new().data(packet).repeat(1000))?;
/// println!("verdict {} in {:?} a run; packet now {:02x?}", run.return_value, run.duration, run.data);
/// # Ok(())
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Default)]
pub struct TestRun<'a> {
    data: Option<&'a [u8]>,
    data_out: Option<usize>,
    ctx: Option<&'a [u8]>,
    ctx_out: Option<usize>,
    repeat: u32,
    flags: u32,
    cpu: Option<u32>,
    batch_size: u32,
}

/// What a test run gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (an XDP verdict, a tc action, ...).
    pub return_value: u32,
    /// The average time of one run, as the kernel measured it.
    pub duration: Duration,
    /// The packet after the run (for programs given `data`), as long as the
    /// kernel made it.
    pub data: Vec<u8>,
    /// The context after the run (when an output context was asked for).
    pub ctx: Vec<u8>,
}

/// Room for the packet to grow by (XDP's `bpf_xdp_adjust_head` and
/// `adjust_tail`, tc's `bpf_skb_change_tail`) when no output size is given.
const DATA_HEADROOM: usize = 512;

impl<'a> TestRun<'a> {
    /// One run with no input.
    pub fn new() -> Self {
        Self::default()
    }

    /// The packet the program sees (XDP, tc, socket filters, flow
    /// dissectors, ...).
    pub fn data(mut self, data: &'a [u8]) -> Self {
        self.data = Some(data);
        self
    }

    /// Room for the packet out, in bytes (by default the input's size and
    /// 512 more).
    pub fn data_out(mut self, size: usize) -> Self {
        self.data_out = Some(size);
        self
    }

    /// The program's context (`struct __sk_buff`, `struct xdp_md`, a
    /// `raw_tp` program's arguments, a `syscall` program's argument struct).
    pub fn ctx(mut self, ctx: &'a [u8]) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// Asks for the context after the run, in `size` bytes.
    pub fn ctx_out(mut self, size: usize) -> Self {
        self.ctx_out = Some(size);
        self
    }

    /// Runs the program `n` times (the duration is their average).
    pub fn repeat(mut self, n: u32) -> Self {
        self.repeat = n;
        self
    }

    /// `BPF_F_TEST_*` flags (`BPF_F_TEST_XDP_LIVE_FRAMES`, ...).
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    /// Runs on the CPU `cpu` (`BPF_F_TEST_RUN_ON_CPU`; `raw_tp` programs).
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// Packets per batch in XDP live-frame mode (Linux 5.18): the kernel
    /// runs the repeats in batches of this many frames (64 when 0, at most
    /// 256: E2BIG above), and refuses a batch size without live frames
    /// (EINVAL).
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = n;
        self
    }
}

impl Program {
    /// Runs the program in the kernel as `run` says (`BPF_PROG_TEST_RUN`).
    pub fn test_run_with(&self, run: &TestRun<'_>) -> Result<TestRunResult> {
        let fd = self.fd()?.as_raw_fd();
        let live = run.flags & sys::BPF_F_TEST_XDP_LIVE_FRAMES != 0;
        let data_out = match (run.data, run.data_out) {
            // Live frames leave the machine: the kernel takes no output buffer.
            _ if live => 0,
            (_, Some(size)) => size,
            (Some(data), None) => data.len() + DATA_HEADROOM,
            (None, None) => 0,
        };
        let mut data = vec![0u8; data_out];
        let mut ctx = vec![0u8; run.ctx_out.unwrap_or(0)];
        let mut opts = sys::bpf_test_run_opts {
            sz: size_of::<sys::bpf_test_run_opts>() as _,
            repeat: run.repeat as _,
            flags: run.flags,
            batch_size: run.batch_size,
            ..Default::default()
        };
        if let Some(input) = run.data {
            opts.data_in = input.as_ptr().cast();
            opts.data_size_in = input.len() as u32;
        }
        if !data.is_empty() {
            opts.data_out = data.as_mut_ptr().cast();
            opts.data_size_out = data.len() as u32;
        }
        if let Some(input) = run.ctx {
            opts.ctx_in = input.as_ptr().cast();
            opts.ctx_size_in = input.len() as u32;
        }
        if !ctx.is_empty() {
            opts.ctx_out = ctx.as_mut_ptr().cast();
            opts.ctx_size_out = ctx.len() as u32;
        }
        if let Some(cpu) = run.cpu {
            opts.cpu = cpu;
            opts.flags |= sys::BPF_F_TEST_RUN_ON_CPU;
        }
        // SAFETY: every buffer outlives the call and has the size given.
        let ret = unsafe { sys::bpf_prog_test_run_opts(fd, &mut opts) };
        check(ret).map_err(|source| {
            Error::sys(format!("test-running program `{}`", self.name), source)
        })?;
        data.truncate(opts.data_size_out as usize);
        ctx.truncate(opts.ctx_size_out as usize);
        Ok(TestRunResult {
            return_value: opts.retval,
            duration: Duration::from_nanos(u64::from(opts.duration)),
            data,
            ctx,
        })
    }

    /// Runs the program once in the kernel and returns its return value.
    /// `ctx` is the program's context (a `syscall` program's argument
    /// struct, a `raw_tp` program's `u64` arguments); `None` for programs
    /// that take none. See [`Program::test_run_with`] for packets, repeats
    /// and output.
    pub fn test_run(&self, ctx: Option<&[u8]>) -> Result<u32> {
        let run = match ctx {
            Some(ctx) => TestRun::new().ctx(ctx),
            None => TestRun::new(),
        };
        Ok(self.test_run_with(&run)?.return_value)
    }

    /// Like [`Program::test_run`], on the CPU `cpu` (for `raw_tp`
    /// programs, whose per-CPU effects a test may want to pin down).
    pub fn test_run_on_cpu(&self, ctx: Option<&[u8]>, cpu: u32) -> Result<u32> {
        let run = match ctx {
            Some(ctx) => TestRun::new().ctx(ctx).cpu(cpu),
            None => TestRun::new().cpu(cpu),
        };
        Ok(self.test_run_with(&run)?.return_value)
    }
}
