//! Kernel BTF read by libbpf and written out as C (`vmlinux.h`), checked
//! against what the kernel itself says about its types, and compiled.

use std::process::Command;

use ebpf_skeleton::btf::Btf;

const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

fn header_of(btf: &Btf) -> String {
    let path = std::env::temp_dir().join(format!("btf-test-{}.h", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    btf.write_c_header(&file).expect("writing the header");
    drop(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    text
}

#[test]
fn the_kernels_btf_is_the_sysfs_file_and_writes_as_c_that_compiles() {
    let kernel = Btf::kernel().expect("the running kernel's BTF");
    let file = Btf::from_file(KERNEL_BTF).expect("the sysfs file");
    assert_eq!(kernel.type_count(), file.type_count());
    assert!(kernel.type_count() > 10_000, "{}", kernel.type_count());

    let header = header_of(&file);
    assert!(
        header.starts_with("#ifndef __VMLINUX_H__\n"),
        "{}",
        &header[..80]
    );
    assert!(header.trim_end().ends_with("#endif /* __VMLINUX_H__ */"));
    assert!(header.contains("struct task_struct {"));
    // The kernel's own tracepoint format names the fields the header's
    // struct must have.
    let format = std::fs::read_to_string("/sys/kernel/tracing/events/sched/sched_switch/format")
        .expect("the sched_switch format (tracefs)");
    assert!(
        format.contains("prev_pid") && header.contains("struct trace_event_raw_sched_switch {")
    );

    // clang accepts it, with a program reading a field by CO-RE.
    let dir = std::env::temp_dir().join(format!("btf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vmlinux.h"), &header).unwrap();
    std::fs::write(
        dir.join("prog.bpf.c"),
        "#include \"vmlinux.h\"\nint pid_of(struct task_struct *t) { return __builtin_preserve_access_index(t->pid); }\n",
    )
    .unwrap();
    let out = Command::new("clang-19")
        .args([
            "--target=bpf",
            "-O2",
            "-g",
            "-c",
            "prog.bpf.c",
            "-o",
            "prog.bpf.o",
        ])
        .current_dir(&dir)
        .output()
        .expect("running clang-19");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = Btf::from_file("/nonexistent/vmlinux").expect_err("no such file");
    let text = err.to_string();
    assert!(text.contains("/nonexistent/vmlinux"), "{text}");
    assert_eq!(err.errno(), Some(libc::ENOENT), "{text}");
}
