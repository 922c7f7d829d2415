//! BTF, the kernel's type information, as libbpf reads it: the running
//! kernel's (`/sys/kernel/btf/vmlinux`) or a file's, written out as the C
//! header (`vmlinux.h`) that BPF programs include for CO-RE.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use libbpf_sys as sys;

use crate::error::{Error, Result};
use crate::os::errno::last_error;

/// Type information parsed by libbpf; freed on drop.
#[derive(Debug)]
pub struct Btf {
    ptr: NonNull<sys::btf>,
    /// Where it was read from, for messages.
    origin: String,
}

impl Btf {
    /// The running kernel's BTF, where libbpf finds it
    /// (`/sys/kernel/btf/vmlinux`, then the usual files under `/boot` and
    /// `/lib/modules`).
    pub fn kernel() -> Result<Self> {
        // SAFETY: no arguments; libbpf returns an owned BTF or NULL and errno.
        let ptr = unsafe { sys::btf__load_vmlinux_btf() };
        Self::owned(ptr, "the running kernel's BTF".to_owned())
    }

    /// The BTF of `path`: a raw BTF file (such as `/sys/kernel/btf/vmlinux`
    /// copied from another machine) or an ELF file with a `.BTF` section
    /// (a kernel image with debug information, an eBPF object).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let origin = format!("the BTF of `{}`", path.display());
        let c_path = c_path(path).ok_or_else(|| {
            Error::sys(
                format!("reading {origin}"),
                std::io::Error::from_raw_os_error(libc::EINVAL),
            )
        })?;
        // SAFETY: a valid C string; no BTF.ext wanted. libbpf returns an
        // owned BTF or NULL and errno.
        let ptr = unsafe { sys::btf__parse(c_path.as_ptr(), std::ptr::null_mut()) };
        Self::owned(ptr, origin)
    }

    fn owned(ptr: *mut sys::btf, origin: String) -> Result<Self> {
        match NonNull::new(ptr) {
            Some(ptr) => Ok(Btf { ptr, origin }),
            None => Err(Error::sys(format!("reading {origin}"), last_error())),
        }
    }

    /// The number of types, `void` (type 0) included.
    pub fn type_count(&self) -> u32 {
        // SAFETY: a live BTF.
        unsafe { sys::btf__type_cnt(self.ptr.as_ptr()) }
    }

    /// Writes every type as C declarations, in an order a compiler accepts,
    /// between the guards and the `preserve_access_index` attribute that
    /// make the header usable for CO-RE (what `bpftool btf dump ... format
    /// c` writes).
    pub fn write_c_header(&self, out: impl AsFd) -> Result<()> {
        let mut sink = Sink {
            fd: out.as_fd().as_raw_fd(),
            failed: false,
        };
        let what = || format!("writing {} as C", self.origin);
        sink.text(HEADER_START);
        // SAFETY: a live BTF; `sink` outlives the dumper, which calls
        // `print` with it as context until freed below.
        let dump = unsafe {
            sys::btf_dump__new(
                self.ptr.as_ptr(),
                Some(print),
                (&raw mut sink).cast(),
                std::ptr::null(),
            )
        };
        let Some(dump) = NonNull::new(dump) else {
            return Err(Error::sys(what(), last_error()));
        };
        let mut result = Ok(());
        for id in 1..self.type_count() {
            // SAFETY: a live dumper of this BTF, and an id below its count.
            let ret = unsafe { sys::btf_dump__dump_type(dump.as_ptr(), id) };
            if ret < 0 {
                result = Err(Error::sys(
                    format!("{} (type {id})", what()),
                    crate::os::errno::from_code(-ret),
                ));
                break;
            }
        }
        // SAFETY: the dumper is live and not used after this.
        unsafe { sys::btf_dump__free(dump.as_ptr()) };
        result?;
        sink.text(HEADER_END);
        if sink.failed {
            return Err(Error::sys(what(), std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl Drop for Btf {
    fn drop(&mut self) {
        // SAFETY: the BTF is owned here and not used after this.
        unsafe { sys::btf__free(self.ptr.as_ptr()) };
    }
}

/// What precedes the types: an include guard, and every struct and union
/// made relocatable (`preserve_access_index`) unless the program opts out.
const HEADER_START: &str = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
#endif\n\n";

const HEADER_END: &str = "\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/// Where the dumper's text goes: a descriptor, written with `vdprintf`
/// (libbpf hands over a format and a `va_list`, which only C can expand).
struct Sink {
    fd: RawFd,
    failed: bool,
}

impl Sink {
    fn text(&mut self, text: &str) {
        let mut rest = text.as_bytes();
        while !rest.is_empty() && !self.failed {
            // SAFETY: `rest` is readable for its length.
            let n = unsafe { libc::write(self.fd, rest.as_ptr().cast(), rest.len()) };
            match usize::try_from(n) {
                Ok(n) => rest = &rest[n..],
                Err(_)
                    if std::io::Error::last_os_error().kind()
                        == std::io::ErrorKind::Interrupted => {}
                Err(_) => self.failed = true,
            }
        }
    }
}

unsafe extern "C" {
    /// glibc's and musl's `vdprintf(3)`, with `va_list` spelled as
    /// libbpf-sys's bindings spell it for this target.
    fn vdprintf(
        fd: libc::c_int,
        format: *const libc::c_char,
        args: *mut sys::__va_list_tag,
    ) -> libc::c_int;
}

/// The dumper's print callback.
///
/// # Safety
/// `ctx` is the `Sink` given to `btf_dump__new`; `format` and `args` are
/// libbpf's, valid for this call.
unsafe extern "C" fn print(
    ctx: *mut libc::c_void,
    format: *const libc::c_char,
    args: *mut sys::__va_list_tag,
) {
    // SAFETY: `ctx` is the live, otherwise unborrowed `Sink` (see above).
    let sink = unsafe { &mut *ctx.cast::<Sink>() };
    if sink.failed {
        return;
    }
    // SAFETY: a format and arguments libbpf made for each other.
    if unsafe { vdprintf(sink.fd, format, args) } < 0 {
        sink.failed = true;
    }
}

fn c_path(path: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(PathBuf::from(path).as_os_str().as_bytes()).ok()
}
