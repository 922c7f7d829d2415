//! The build helper run as a build script runs it, into scratch
//! directories: objects for each byte order, defines, DWARF kept or
//! stripped, vmlinux.h cached, and the errors a missing or old clang and a
//! broken source give.

use std::path::{Path, PathBuf};

use ebpf_skeleton_build::{Builder, Error, Target};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
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

    let old = dir.join("clang");
    // Installed by a child process: a descriptor this process held open for
    // writing would be inherited by a clang another test is starting, and
    // running the script before that child's exec fails with ETXTBSY.
    let text = dir.join("clang.sh");
    std::fs::write(&text, "#!/bin/sh\necho 'clang version 10.0.1 (old)'\n").unwrap();
    let status = std::process::Command::new("install")
        .args(["-m", "0755"])
        .args([&text, &old])
        .status()
        .unwrap();
    assert!(status.success(), "install {}: {status}", old.display());
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
