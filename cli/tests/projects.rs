//! Projects built the way users build them, with cargo, in scratch
//! directories: the output of `expand` compiled on its own as a module (and
//! run), and a project made by `new` built, run, edited in C and rebuilt.
//!
//! The projects share one target directory under this crate's
//! `CARGO_TARGET_TMPDIR`, so that the runtime and libbpf are built once.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tool(args: &[&str], dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_ebpf-skeleton"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running ebpf-skeleton");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `cargo build` of the project in `dir`, with this workspace's lock file
/// (the same versions, nothing to resolve) and the shared target directory.
fn cargo_build(dir: &Path) {
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("running cargo");
    assert!(
        out.status.success(),
        "cargo build in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("projects-target")
}

/// Runs a built binary until it ends; `trigger` runs once it has printed
/// its first line (attached). Everything it printed.
fn run(binary: &str, args: &[&str], trigger: impl FnOnce()) -> String {
    let mut child = Command::new(target_dir().join("debug").join(binary))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    stdout.read_line(&mut text).expect("its first line");
    trigger();
    for line in stdout.lines() {
        text.push_str(&line.unwrap());
        text.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{binary} ended with {status}:\n{text}");
    text
}

fn exec_true(times: usize) {
    for _ in 0..times {
        assert!(Command::new("/bin/true").status().unwrap().success());
    }
}

#[test]
fn expanded_skeleton_compiles_as_a_module_and_loads() {
    let dir = scratch("expanded");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(
        repo().join("examples/execsnoop/bpf/execsnoop.bpf.o"),
        dir.join("src/execsnoop.bpf.o"),
    )
    .unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"expanded\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nebpf-skeleton = {{ path = {:?} }}\n\n[workspace]\n",
            repo().join("runtime").display().to_string()
        ),
    )
    .unwrap();
    // What a bpf2go user does with the generated file: commit it beside
    // the object and include it as a module.
    let out = Command::new(env!("CARGO_BIN_EXE_ebpf-skeleton"))
        .args([
            "expand",
            "src/execsnoop.bpf.o",
            "--embed",
            "execsnoop.bpf.o",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let unspaced: Vec<&str> = text
        .lines()
        .filter(|l| {
            let doc = l.trim_start().strip_prefix("///");
            doc.is_some_and(|d| !d.is_empty() && !d.starts_with(' '))
        })
        .collect();
    assert!(unspaced.is_empty(), "docs without a space: {unspaced:?}");
    assert!(text.contains("/// Skeleton of the eBPF object `execsnoop`"));
    std::fs::write(dir.join("src/skeleton.rs"), &out.stdout).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "mod skeleton;\n\
         fn main() -> ebpf_skeleton::Result<()> {\n\
             let objs = skeleton::execsnoop::Objects::load()?;\n\
             let _links = objs.attach()?;\n\
             println!(\"attached\");\n\
             let mut line = String::new();\n\
             std::io::stdin().read_line(&mut line).unwrap();\n\
             println!(\"execs {}\", objs.bss.total_execs.get());\n\
             Ok(())\n\
         }\n",
    )
    .unwrap();
    cargo_build(&dir);

    let mut child = Command::new(target_dir().join("debug/expanded"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "attached\n");
    exec_true(3);
    drop(child.stdin.take());
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let execs: u64 = line
        .strip_prefix("execs ")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(execs >= 3, "{execs} execs counted for 3 runs of /bin/true");
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_new_project_builds_runs_and_rebuilds_when_its_c_changes() {
    let dir = scratch("new");
    tool(
        &["new", "hello-bpf", "--path", repo().to_str().unwrap()],
        &dir,
    );
    let project = dir.join("hello-bpf");
    for file in [
        "Cargo.toml",
        "build.rs",
        "src/main.rs",
        "src/bpf/hello_bpf.bpf.c",
        "README.md",
    ] {
        assert!(project.join(file).is_file(), "{file} missing");
    }
    cargo_build(&project);
    let text = run("hello-bpf", &["--duration", "2"], || exec_true(2));
    assert!(
        text.starts_with("    PID COMM             FILENAME\n"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.ends_with(" true             /bin/true")),
        "no exec of /bin/true:\n{text}"
    );
    let counted = |text: &str| -> u64 {
        let last = text.lines().last().unwrap_or_default();
        last.strip_prefix("execs counted: ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in:\n{text}"))
    };
    assert!(counted(&text) >= 2, "{text}");

    // Edit the C, build, run: the program counts 1000 per exec now.
    let source = project.join("src/bpf/hello_bpf.bpf.c");
    let c = std::fs::read_to_string(&source).unwrap();
    assert!(c.contains("#define STEP 1\n"));
    std::thread::sleep(Duration::from_millis(1100)); // a newer mtime, surely
    std::fs::write(
        &source,
        c.replace("#define STEP 1\n", "#define STEP 1000\n"),
    )
    .unwrap();
    cargo_build(&project);
    let text = run("hello-bpf", &["--duration", "2"], || exec_true(1));
    let count = counted(&text);
    assert!(
        count >= 1000 && count % 1000 == 0,
        "not counted by 1000s: {count}"
    );
}
