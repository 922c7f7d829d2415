//! libbpf's messages, sent to the `log` crate instead of stderr.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr};
use std::sync::Once;

use libbpf_sys::{__va_list_tag, libbpf_print_level, LIBBPF_DEBUG, LIBBPF_INFO, LIBBPF_WARN};

unsafe extern "C" {
    fn vsnprintf(
        buf: *mut c_char,
        size: usize,
        fmt: *const c_char,
        ap: *mut __va_list_tag,
    ) -> c_int;
}

/// Routes libbpf's messages to `log` (target `libbpf`), once per process.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `forward` has the signature libbpf expects and is 'static.
        unsafe { libbpf_sys::libbpf_set_print(Some(forward)) };
    });
}

thread_local! {
    /// libbpf's warnings during a call made under [`capture`] on this thread.
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `f`, collecting the warnings libbpf prints on this thread meanwhile,
/// so errors can say what libbpf said (libbpf prints from the calling
/// thread, so concurrent loads on other threads do not mix in).
pub(crate) fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    install();
    let outer = CAPTURED.with(|c| c.borrow_mut().replace(Vec::new()));
    let result = f();
    let warnings = CAPTURED.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    (result, warnings.unwrap_or_default())
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
    let capturing = level == log::Level::Warn
        && CAPTURED.with(|c| c.try_borrow().map(|c| c.is_some()).unwrap_or(false));
    if !capturing && !log::log_enabled!(target: "libbpf", level) {
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
    let text = text.trim_end();
    if capturing {
        CAPTURED.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                c.get_or_insert_with(Vec::new).push(text.to_owned());
            }
        });
    }
    log::log!(target: "libbpf", level, "{text}");
    n
}
