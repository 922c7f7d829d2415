//! Errors as the kernel and libbpf report them: negative return codes,
//! `errno`, and libbpf's own codes (4000 and up), which the OS has no text
//! for.

use std::fmt;
use std::io;

/// libbpf's own error codes start here (`LIBBPF_ERRNO__START`).
const LIBBPF_FIRST: i32 = 4000;
/// And end before here (with room for codes newer libbpf adds).
const LIBBPF_END: i32 = 4100;

/// Turns a libbpf or syscall return code (negative on failure) into a
/// result.
pub(crate) fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(from_code(-ret))
    } else {
        Ok(ret)
    }
}

/// The error libbpf (or a system call) left in `errno` after failing.
pub(crate) fn last_error() -> io::Error {
    match io::Error::last_os_error().raw_os_error() {
        Some(0) | None => io::Error::from_raw_os_error(libc::EINVAL),
        Some(code) => from_code(code),
    }
}

/// The kernel's internal "not supported" (`ENOTSUPP`), which the verifier
/// and some calls pass to user space; the OS has no text for it.
pub(crate) const ENOTSUPP: i32 = 524;

/// An errno, or one of libbpf's own codes with libbpf's text for it (the OS
/// would print "Unknown error 4001", or "Unknown error 524" for the
/// kernel's `ENOTSUPP`).
pub(crate) fn from_code(code: i32) -> io::Error {
    if (LIBBPF_FIRST..LIBBPF_END).contains(&code) || code == ENOTSUPP {
        io::Error::new(io::ErrorKind::InvalidData, LibbpfCode(code))
    } else {
        io::Error::from_raw_os_error(code)
    }
}

/// The errno or libbpf code behind an error made here.
pub(crate) fn code_of(err: &io::Error) -> Option<i32> {
    err.raw_os_error().or_else(|| {
        err.get_ref()
            .and_then(|e| e.downcast_ref::<LibbpfCode>())
            .map(|c| c.0)
    })
}

/// One of libbpf's own error codes (`LIBBPF_ERRNO__*`), or the kernel's
/// `ENOTSUPP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LibbpfCode(i32);

impl fmt::Display for LibbpfCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == ENOTSUPP {
            return f.write_str("not supported by this kernel (ENOTSUPP, 524)");
        }
        let mut buf = [0u8; 128];
        // SAFETY: `buf` is writable for its length; libbpf NUL-terminates.
        let ret =
            unsafe { libbpf_sys::libbpf_strerror(self.0, buf.as_mut_ptr().cast(), buf.len() as _) };
        let text = std::ffi::CStr::from_bytes_until_nul(&buf)
            .ok()
            .filter(|_| ret == 0)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "unknown libbpf error".to_owned());
        write!(f, "{text} (libbpf error {})", self.0)
    }
}

impl std::error::Error for LibbpfCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_codes_have_libbpf_text() {
        let err = from_code(4001);
        assert_eq!(code_of(&err), Some(4001));
        let text = err.to_string();
        assert!(text.contains("libbpf error 4001"), "{text}");
        assert!(!text.contains("Unknown error"), "{text}");
        let err = from_code(ENOTSUPP);
        assert_eq!(code_of(&err), Some(ENOTSUPP));
        assert_eq!(
            err.to_string(),
            "not supported by this kernel (ENOTSUPP, 524)"
        );
        assert_eq!(code_of(&from_code(libc::EPERM)), Some(libc::EPERM));
        assert!(check(-libc::ENOENT).is_err());
        assert_eq!(check(3).unwrap(), 3);
    }
}
