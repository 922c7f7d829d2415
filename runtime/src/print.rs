//! libbpf's messages, sent to the `log` crate instead of stderr.

use std::ffi::{c_char, c_int, CStr};
use std::sync::Once;

use libbpf_sys::{
    libbpf_print_level, LIBBPF_DEBUG, LIBBPF_INFO, LIBBPF_WARN, __va_list_tag,
};

unsafe extern "C" {
    fn vsnprintf(buf: *mut c_char, size: usize, fmt: *const c_char, ap: *mut __va_list_tag)
        -> c_int;
}

/// Routes libbpf's messages to `log` (target `libbpf`), once per process.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `forward` has the signature libbpf expects and is 'static.
        unsafe { libbpf_sys::libbpf_set_print(Some(forward)) };
    });
}

unsafe extern "C" fn forward(
    level: libbpf_print_level,
    fmt: *const c_char,
    ap: *mut __va_list_tag,
) -> c_int {
    let level = match level {
        LIBBPF_WARN => log::Level::Warn,
        LIBBPF_INFO => log::Level::Info,
        LIBBPF_DEBUG => log::Level::Debug,
        _ => log::Level::Trace,
    };
    if !log::log_enabled!(target: "libbpf", level) {
        return 0;
    }
    // Verifier logs can be long; longer messages are cut, never overrun.
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: `buf` is writable for its length, `fmt` and `ap` come from
    // libbpf as a matching printf format and argument list.
    let n = unsafe { vsnprintf(buf.as_mut_ptr().cast(), buf.len(), fmt, ap) };
    if n < 0 {
        return n;
    }
    let text = CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    log::log!(target: "libbpf", level, "{}", text.trim_end());
    n
}
