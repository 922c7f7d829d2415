//! The probes' program loads: a few instructions, and what their type
//! needs to load at all (an expected attach type, a kernel function to
//! attach to, a program to extend, the sleepable flag, the kernel version).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use crate::asm::Instructions;
use crate::os::errno::check;
use crate::program::func_info::{func_info, FuncInfo};

/// The room for a probe's verifier log: it verifies a few instructions.
const LOG_SIZE: usize = 64 << 10;

/// What a probe program of one type is loaded with.
#[derive(Default)]
pub(super) struct Setup {
    pub(super) kind: u32,
    pub(super) expected_attach_type: u32,
    pub(super) flags: u32,
    pub(super) kern_version: u32,
    /// The kernel function (or struct_ops type) attached to.
    pub(super) attach_btf_id: u32,
    /// The program extended, for `ext`.
    pub(super) attach_prog: Option<OwnedFd>,
    /// BTF for the program's own function, which `ext` programs and their
    /// targets need.
    pub(super) with_btf: bool,
}

/// Loads `instructions` as `setup` says; the descriptor or the errno, and
/// the verifier's log when `log` asks for it.
pub(super) fn load(
    setup: &Setup,
    instructions: &Instructions,
    log: bool,
) -> (io::Result<OwnedFd>, String) {
    let words: Vec<u64> = instructions
        .encode()
        .chunks_exact(8)
        .map(|slot| u64::from_ne_bytes(slot.try_into().unwrap_or_default()))
        .collect();
    let functions = match setup.with_btf.then(|| btf_of(instructions)).transpose() {
        Ok(functions) => functions,
        Err(e) => return (Err(e), String::new()),
    };
    let mut buffer = vec![0u8; if log { LOG_SIZE } else { 0 }];
    let mut opts = sys::bpf_prog_load_opts {
        sz: size_of::<sys::bpf_prog_load_opts>() as _,
        expected_attach_type: setup.expected_attach_type,
        prog_flags: setup.flags,
        kern_version: setup.kern_version,
        attach_btf_id: setup.attach_btf_id,
        attach_prog_fd: setup
            .attach_prog
            .as_ref()
            .map_or(0, |fd| fd.as_raw_fd() as u32),
        log_level: u32::from(log),
        log_size: buffer.len() as u32,
        log_buf: if log {
            buffer.as_mut_ptr().cast()
        } else {
            std::ptr::null_mut()
        },
        ..Default::default()
    };
    if let Some((btf, info)) = &functions {
        opts.prog_btf_fd = btf.as_raw_fd() as u32;
        opts.func_info = info.records.as_ptr().cast();
        opts.func_info_cnt = info.records.len() as u32;
        opts.func_info_rec_size = size_of::<sys::bpf_func_info>() as u32;
    }
    // SAFETY: `words` holds the instructions as `struct bpf_insn`s (8 bytes
    // each, aligned for them); the license, options, BTF, func_info records
    // and log buffer outlive the call, and the kernel writes at most
    // `log_size` bytes of log.
    let ret = unsafe {
        sys::bpf_prog_load(
            setup.kind,
            std::ptr::null(),
            c"GPL".as_ptr(),
            words.as_ptr().cast(),
            words.len() as _,
            &mut opts,
        )
    };
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let text = String::from_utf8_lossy(&buffer[..end]).into_owned();
    // SAFETY: on success the kernel just returned this descriptor to us.
    let fd = check(ret).map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
    (fd, text)
}

/// The BTF of `instructions` as one function, loaded, with its func_info.
fn btf_of(instructions: &Instructions) -> io::Result<(OwnedFd, FuncInfo)> {
    let info = func_info("probe", instructions, &[0]);
    // SAFETY: the BTF bytes outlive the call; NULL options take the
    // defaults.
    let ret = unsafe {
        sys::bpf_btf_load(
            info.btf.as_ptr().cast(),
            info.btf.len() as _,
            std::ptr::null_mut(),
        )
    };
    let fd = check(ret)?;
    // SAFETY: the kernel just returned this descriptor to us.
    Ok((unsafe { OwnedFd::from_raw_fd(fd) }, info))
}

/// The kernel's BTF (`/sys/kernel/btf/vmlinux`), freed on drop.
pub(super) struct KernelBtf(std::ptr::NonNull<sys::btf>);

impl KernelBtf {
    pub(super) fn load() -> io::Result<KernelBtf> {
        // SAFETY: a plain libbpf call; the result is owned here.
        let btf = unsafe { sys::btf__load_vmlinux_btf() };
        std::ptr::NonNull::new(btf)
            .map(KernelBtf)
            .ok_or_else(crate::os::errno::last_error)
    }

    /// The id of the type `name` of BTF kind `kind`.
    pub(super) fn find(&self, name: &std::ffi::CStr, kind: u32) -> Option<u32> {
        // SAFETY: a live BTF object and a valid C string.
        let id = unsafe { sys::btf__find_by_name_kind(self.0.as_ptr(), name.as_ptr(), kind) };
        u32::try_from(id).ok().filter(|&id| id > 0)
    }

    /// The index of the member `member` of the struct `id`.
    pub(super) fn member_index(&self, id: u32, member: &str) -> Option<u32> {
        // SAFETY: a live BTF object; a struct's `vlen` members follow its
        // `btf_type` in libbpf's memory, and their names are libbpf's
        // NUL-terminated strings.
        unsafe {
            let ty = sys::btf__type_by_id(self.0.as_ptr(), id);
            if ty.is_null() {
                return None;
            }
            let count = ((*ty).info & 0xffff) as usize;
            let members = ty.add(1).cast::<sys::btf_member>();
            (0..count).find_map(|i| {
                let name = sys::btf__name_by_offset(self.0.as_ptr(), (*members.add(i)).name_off);
                let matches = !name.is_null()
                    && std::ffi::CStr::from_ptr(name).to_bytes() == member.as_bytes();
                matches.then_some(i as u32)
            })
        }
    }
}

impl Drop for KernelBtf {
    fn drop(&mut self) {
        // SAFETY: the BTF object is ours and freed once.
        unsafe { sys::btf__free(self.0.as_ptr()) };
    }
}
