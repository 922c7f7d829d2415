//! A program the verifier rejects is named, with its log, even when
//! something else in the process has taken libbpf's print hook (libbpf-rs's
//! `set_print`, say). In a test binary of its own: the hook is global.

use std::ffi::{c_char, c_int};

use ebpf_skeleton::libbpf_sys::{__va_list_tag, libbpf_print_level, libbpf_set_print};
use ebpf_skeleton::{ebpf_skeleton, Error};

ebpf_skeleton!("../bpf/rejected.bpf.o");
ebpf_skeleton!("../bpf/counter.bpf.o");

/// A print hook that swallows everything libbpf says.
unsafe extern "C" fn silent(
    _level: libbpf_print_level,
    _fmt: *const c_char,
    _ap: *mut __va_list_tag,
) -> c_int {
    0
}

#[test]
fn a_rejection_is_reported_whoever_listens_to_libbpf() {
    // Our hook goes in with the first open; then another takes its place.
    drop(counter::Objects::load().unwrap());
    // SAFETY: `silent` has the signature libbpf expects and lives forever.
    unsafe { libbpf_set_print(Some(silent)) };

    let err = rejected::Objects::load().unwrap_err();
    let Error::ProgramLoad { program, log, .. } = &err else {
        panic!("expected a program load error, got {err}");
    };
    assert_eq!(program, "unchecked_lookup");
    assert!(
        log.contains("invalid mem access 'map_value_or_null'"),
        "log:\n{log}"
    );
    assert!(
        err.to_string()
            .starts_with("the verifier rejected program `unchecked_lookup` of object `rejected`"),
        "{err}"
    );
}
