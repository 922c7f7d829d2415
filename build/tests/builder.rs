//! The build helper run as a build script runs it, into scratch
//! directories: objects for each byte order, defines, DWARF kept or
//! stripped, vmlinux.h cached, and the errors a missing or old clang and a
//! broken source give.

use std::path::{Path, PathBuf};
use std::process::Command;

use ebpf_skeleton_build::{Builder, Error, Target};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A script `dir/name` that says it is clang `version`.
///
/// Installed by a child process: a descriptor this process held open for
/// writing would be inherited by a clang another test is starting, and
/// running the script before that child's exec fails with ETXTBSY.
fn fake_clang(dir: &Path, name: &str, version: &str) -> PathBuf {
    let text = dir.join(format!("{name}.sh"));
    std::fs::write(
        &text,
        format!("#!/bin/sh\necho 'clang version {version} (fake)'\n"),
    )
    .unwrap();
    let path = dir.join(name);
    let status = Command::new("install")
        .args(["-m", "0755"])
        .args([&text, &path])
        .status()
        .unwrap();
    assert!(status.success(), "install {}: {status}", path.display());
    path
}

/// A program that needs `COUNT_BY` defined and a header next to it.
fn write_source(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("step.h"), "#define STEP_OF(x) ((x) * COUNT_BY)\n").unwrap();
    let source = dir.join("counter.bpf.c");
    std::fs::write(
        &source,
        "#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n#include \"step.h\"\n\
         #ifndef COUNT_BY\n#error COUNT_BY is not defined\n#endif\n\
         __u64 total = 0;\n\
         SEC(\"tp_btf/sched_switch\") int count(void *ctx) { total += STEP_OF(1); return 0; }\n\
         char LICENSE[] SEC(\"license\") = \"GPL\";\n",
    )
    .unwrap();
    source
}

fn sections(object: &Path) -> Vec<String> {
    use object::{Object, ObjectSection};
    let data = std::fs::read(object).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.sections()
        .map(|s| s.name().unwrap().to_owned())
        .collect()
}

fn is_little_endian(object: &Path) -> bool {
    use object::Object;
    let data = std::fs::read(object).unwrap();
    object::File::parse(&*data).unwrap().is_little_endian()
}

#[test]
fn both_byte_orders_with_a_define_and_dwarf_stripped() {
    let dir = scratch("both");
    let source = write_source(&dir);
    let objects = Builder::new()
        .source(&source)
        .target(Target::Both)
        .define("COUNT_BY", "3")
        .vmlinux_from_kernel()
        .out_dir(&dir)
        .build()
        .expect("building");
    let names: Vec<_> = objects.iter().map(|o| (o.target, o.path.clone())).collect();
    assert_eq!(
        names,
        [
            ("bpfel", dir.join("counter.bpfel.o")),
            ("bpfeb", dir.join("counter.bpfeb.o"))
        ]
    );
    assert!(is_little_endian(&objects[0].path));
    assert!(!is_little_endian(&objects[1].path));
    for o in &objects {
        let sections = sections(&o.path);
        assert!(sections.iter().any(|s| s == ".BTF"), "{sections:?}");
        assert!(
            !sections.iter().any(|s| s.starts_with(".debug")),
            "{sections:?}"
        );
    }
    // clang's dependency file lists the header next to the source.
    let deps = std::fs::read_to_string(dir.join("counter.bpfel.d")).unwrap();
    assert!(
        deps.contains("step.h") && deps.contains("counter.bpf.c"),
        "{deps}"
    );
}

#[test]
fn native_order_keeps_dwarf_when_asked_and_caches_vmlinux_h() {
    let dir = scratch("native");
    let source = write_source(&dir);
    let build = || {
        Builder::new()
            .source(&source)
            .define("COUNT_BY", "1")
            .keep_debug_info(true)
            .vmlinux_from("/sys/kernel/btf/vmlinux")
            .out_dir(&dir)
            .build()
            .expect("building")
    };
    let objects = build();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].path, dir.join("counter.bpf.o"));
    assert_eq!(
        is_little_endian(&objects[0].path),
        cfg!(target_endian = "little")
    );
    assert!(sections(&objects[0].path)
        .iter()
        .any(|s| s == ".debug_info"));
    let header = dir.join("include/vmlinux.h");
    let first = std::fs::metadata(&header).unwrap().modified().unwrap();
    assert!(dir.join("include/bpf/bpf_helpers.h").is_file());
    build();
    let second = std::fs::metadata(&header).unwrap().modified().unwrap();
    assert_eq!(
        first, second,
        "vmlinux.h was written again for the same BTF"
    );
}

/// A program on the kernel's UAPI headers instead of `vmlinux.h`:
/// `<linux/bpf.h>` includes `<asm/types.h>`, which only the host's
/// multiarch directory has.
#[test]
fn a_source_on_the_system_s_linux_headers_compiles() {
    let dir = scratch("uapi");
    let source = dir.join("uapi.bpf.c");
    std::fs::write(
        &source,
        "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n\
         SEC(\"socket\") int keep_all(struct __sk_buff *skb) { return skb->len; }\n\
         char LICENSE[] SEC(\"license\") = \"GPL\";\n",
    )
    .unwrap();
    let objects = Builder::new()
        .source(&source)
        .out_dir(&dir)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(objects.len(), 1);
    assert!(
        sections(&objects[0].path).iter().any(|s| s == "socket"),
        "{:?}",
        sections(&objects[0].path)
    );
}

#[test]
fn a_broken_source_gives_clangs_message_naming_the_file() {
    let dir = scratch("broken");
    let source = write_source(&dir);
    let err = Builder::new()
        .source(&source)
        .vmlinux_from_kernel()
        .out_dir(&dir)
        .build()
        .expect_err("COUNT_BY is not defined");
    let text = err.to_string();
    assert!(matches!(err, Error::Compile { .. }), "{text}");
    assert!(
        text.starts_with(&format!(
            "clang failed on `{}` for bpfel:",
            source.display()
        )),
        "{text}"
    );
    assert!(text.contains("COUNT_BY is not defined"), "{text}");
}

#[test]
fn a_missing_clang_and_an_old_one_say_what_to_install() {
    let dir = scratch("clangs");
    let source = write_source(&dir);
    let missing = dir.join("no-such-clang");
    let err = Builder::new()
        .source(&source)
        .clang(&missing)
        .out_dir(&dir)
        .build()
        .expect_err("no clang");
    let text = err.to_string();
    assert!(
        text.contains(&missing.display().to_string()) && text.contains("clang-19"),
        "{text}"
    );

    let old = fake_clang(&dir, "clang", "10.0.1");
    let err = Builder::new()
        .source(&source)
        .clang(&old)
        .out_dir(&dir)
        .build()
        .expect_err("too old");
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` is clang 10.0.1, and eBPF programs need clang 14 or newer: install a newer \
             clang (on Debian or Ubuntu, the package clang-19) or set EBPF_CLANG to one",
            old.display()
        )
    );
}

/// Set in the copy of this binary that
/// `ebpf_clang_then_path_choose_the_clang` runs: the scratch directory whose
/// source the copy builds, with no clang given, under the environment it got.
const CHILD: &str = "EBPF_BUILDER_TEST_DIR";

#[test]
fn ebpf_clang_then_path_choose_the_clang() {
    if let Some(dir) = std::env::var_os(CHILD) {
        let dir = PathBuf::from(dir);
        let err = Builder::new()
            .source(dir.join("counter.bpf.c"))
            .out_dir(&dir)
            .build()
            .expect_err("no usable clang");
        println!("error: {err}");
        return;
    }
    let dir = scratch("clang-env");
    write_source(&dir);
    let bin = dir.join("bin");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    let named = fake_clang(&dir, "named-clang", "10.0.1");
    fake_clang(&bin, "clang-15", "11.0.0");
    let newest = fake_clang(&bin, "clang-18", "11.0.0");
    // The build's error in a copy of this test with EBPF_CLANG (or none)
    // and PATH set.
    let error_with = |clang: Option<&Path>, path: &Path| {
        let mut copy = Command::new(std::env::current_exe().unwrap());
        copy.args([
            "--exact",
            "ebpf_clang_then_path_choose_the_clang",
            "--nocapture",
        ])
        .env(CHILD, &dir)
        .env("PATH", path);
        match clang {
            Some(clang) => copy.env("EBPF_CLANG", clang),
            None => copy.env_remove("EBPF_CLANG"),
        };
        let out = copy.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}");
        text.lines()
            .find_map(|l| l.strip_prefix("error: "))
            .unwrap_or_else(|| panic!("no error printed: {text}"))
            .to_owned()
    };
    let too_old = |path: &Path, version: &str| {
        format!(
            "`{}` is clang {version}, and eBPF programs need clang 14 or newer: install a newer \
             clang (on Debian or Ubuntu, the package clang-19) or set EBPF_CLANG to one",
            path.display()
        )
    };
    // EBPF_CLANG wins over a PATH with a usable clang on it.
    assert_eq!(
        error_with(Some(&named), Path::new("/usr/bin:/bin")),
        too_old(&named, "10.0.1")
    );
    // Without it, the newest clang-NN on PATH.
    assert_eq!(error_with(None, &bin), too_old(&newest, "11.0.0"));
    // And with none there, what to install.
    assert_eq!(
        error_with(None, &empty),
        "no clang found (looked at $EBPF_CLANG, then for clang and clang-14..clang-30 on \
         PATH): install clang (on Debian or Ubuntu, the package clang-19: `apt-get install \
         clang-19`) or set EBPF_CLANG to a clang binary"
    );
}

#[test]
fn no_source_and_no_out_dir_are_errors() {
    let err = Builder::new()
        .out_dir("/tmp")
        .build()
        .expect_err("no source");
    assert!(err.to_string().starts_with("no C source given"), "{err}");
    if std::env::var_os("OUT_DIR").is_none() {
        let err = Builder::new()
            .source("x.bpf.c")
            .build()
            .expect_err("no OUT_DIR");
        assert!(err.to_string().starts_with("OUT_DIR is not set"), "{err}");
    }
}
