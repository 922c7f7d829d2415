//! Corrupt objects must give errors, never panics: a proc-macro panic is an
//! unreadable compile error. Real objects are damaged byte by byte (with a
//! fixed seed, so a failure reproduces) and read, checked and expanded.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use crate::args::SkeletonArgs;
use crate::ctxt::Ctxt;
use crate::locate::ObjectFile;
use crate::{check, elf, expand, krate};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The macro's whole pipeline on `bytes`; errors are fine, panics are not.
fn pipeline(bytes: Vec<u8>) {
    let file = ObjectFile {
        path: PathBuf::from("/fuzz/object.bpf.o"),
        bytes,
    };
    let Ok(object) = elf::read(&file) else { return };
    let args: SkeletonArgs = syn::parse_quote!("object.bpf.o");
    let mut cx = Ctxt::default();
    let plan = check::skeleton(&mut cx, &object, &args, &file.path, krate::default());
    if cx.finish().is_ok() {
        if let Some(plan) = plan {
            expand::skeleton(&plan);
        }
    }
}

/// Where the `.BTF` section's bytes are, to aim most damage there.
fn btf_range(bytes: &[u8]) -> std::ops::Range<usize> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(bytes).expect("a valid fixture");
    let section = file.section_by_name(".BTF").expect("BTF");
    let (start, len) = section.file_range().expect("in the file");
    start as usize..(start + len) as usize
}

/// `EBPF_FUZZ_SEED` and `EBPF_FUZZ_ROUNDS` widen the search in a local run.
fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn damaged_objects_never_panic() {
    let mut rng = Rng(knob("EBPF_FUZZ_SEED", 0x9e37_79b9_7f4a_7c15) | 1);
    let rounds = knob("EBPF_FUZZ_ROUNDS", 1000);
    for name in [
        "types.bpf.o",
        "everything.bpf.o",
        "counter.bpf.o",
        "kernel_types.bpf.o",
        "kfuncs.bpf.o",
        "tcp_cc.bpf.o",
    ] {
        let original = fixture(name);
        let btf = btf_range(&original);
        pipeline(original.clone());
        for round in 0..rounds {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.below(8) {
                // Three in four hits land in .BTF, the rest anywhere.
                let at = if rng.below(4) > 0 {
                    btf.start + rng.below(btf.len())
                } else {
                    rng.below(bytes.len())
                };
                bytes[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    2 => bytes[at].wrapping_add(1),
                    _ => rng.next() as u8,
                };
            }
            if rng.below(10) == 0 {
                bytes.truncate(rng.below(bytes.len()));
            }
            let result = catch_unwind(AssertUnwindSafe(|| pipeline(bytes)));
            assert!(result.is_ok(), "{name}, round {round}: the macro panicked");
        }
    }
}
