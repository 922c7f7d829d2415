//! `cargo bench -p ebpf-skeleton-bench --bench compile`: what a skeleton
//! costs to build, side by side in one run. For each object, three small
//! crates are checked with `cargo check` after their `lib.rs` is touched
//! (what every edit of the invoking file and every rust-analyzer pass pays):
//!
//! - `ours`: `ebpf_skeleton!("object.bpf.o")`;
//! - `libbpf-cargo`: the skeleton libbpf-cargo generates for the same object
//!   (embedding it with `include_bytes!`, as ours does), checked against
//!   libbpf-rs;
//! - `floor`: `include_bytes!` of the object alone.
//!
//! The report gives the medians of CPU time (user + system, cargo and rustc)
//! and of peak memory (the largest process, i.e. rustc) over the rounds,
//! with ratios, and the time rustc spends expanding macros in `ours` (the
//! proc macro's own run time plus what it asks rustc to expand), measured
//! with rustc's `-Z time-passes`, and the macro's own run time: the
//! expansion function the proc macro calls (`ebpf_skeleton_codegen::expand`),
//! built optimized here, timed in this process. A user's `cargo check`
//! builds proc macros without optimization unless their profile says
//! otherwise (`[profile.dev.build-override] opt-level = 3`), so rustc's
//! figure is the one they see by default. Goals (issue 14): ours ≤ 1.5x
//! libbpf-cargo in both, the macro's run time ≤ 50 ms for
//! `kernel_types.bpf.o` and ≤ 500 ms for `large.bpf.o`.
//!
//! `EBPF_BENCH_ROUNDS` sets the number of rounds (default 5).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use ebpf_skeleton_bench::median;

/// The objects measured: a real-world one and a large synthetic one.
const OBJECTS: [(&str, &str); 2] = [
    ("kernel_types", "tests/bpf/kernel_types.bpf.o"),
    ("large", "bench/objects/large.bpf.o"),
];

/// The crates checked for each object, in report order.
#[derive(Clone, Copy, PartialEq)]
enum Contender {
    Ours,
    LibbpfCargo,
    Floor,
}

const CONTENDERS: [Contender; 3] = [Contender::Ours, Contender::LibbpfCargo, Contender::Floor];

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Contender::Ours => "ebpf-skeleton",
            Contender::LibbpfCargo => "libbpf-cargo",
            Contender::Floor => "include_bytes!",
        }
    }

    fn crate_name(self, object: &str) -> String {
        let who = match self {
            Contender::Ours => "ours",
            Contender::LibbpfCargo => "libbpf",
            Contender::Floor => "floor",
        };
        format!("{who}-{}", object.replace('_', "-"))
    }
}

/// One `cargo check`: CPU seconds and the largest process's peak MiB.
#[derive(Clone, Copy)]
struct Cost {
    cpu: f64,
    peak_mib: f64,
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let repo = repo.canonicalize().expect("the repository");
    let work = scratch_dir().join("compile-bench");
    let rounds = std::env::var("EBPF_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    write_workspace(&repo, &work);
    eprintln!("warming up: building each crate's dependencies");
    // One crate at a time, as the rounds check them: a workspace-wide check
    // would unify the crates' features and leave the rounds to rebuild.
    for (object, _) in OBJECTS {
        for contender in CONTENDERS {
            cargo(&work, &["check", "-p", &contender.crate_name(object)])
                .expect("check the benchmark's crates");
        }
    }

    let mut table = String::new();
    writeln!(
        table,
        "compile cost: `cargo check` after touching lib.rs, medians of {rounds} rounds\n"
    )
    .unwrap();
    writeln!(
        table,
        "| object | crate | CPU s | peak MiB | CPU vs libbpf-cargo | peak vs libbpf-cargo |"
    )
    .unwrap();
    writeln!(table, "|---|---|---:|---:|---:|---:|").unwrap();
    let mut expansion = Vec::new();
    for (object, _) in OBJECTS {
        let costs = measure_object(&work, object, rounds);
        let peer = costs[1];
        for (contender, cost) in CONTENDERS.iter().zip(&costs) {
            writeln!(
                table,
                "| {object} | {} | {:.2} | {:.0} | {:.2}x | {:.2}x |",
                contender.label(),
                cost.cpu,
                cost.peak_mib,
                cost.cpu / peer.cpu,
                cost.peak_mib / peer.peak_mib,
            )
            .unwrap();
        }
        let own = macro_run_time(&repo.join(object_path(object)), rounds);
        expansion.push((object, macro_expansion(&work, object, rounds), own));
    }
    writeln!(
        table,
        "\nmacro expansion, median ms: rustc's pass (-Z time-passes) with the \
         proc macro unoptimized, as `cargo check` builds it; the expansion \
         function alone, optimized\n"
    )
    .unwrap();
    writeln!(
        table,
        "| object | rustc: ebpf-skeleton | rustc: include_bytes! | expansion function |"
    )
    .unwrap();
    writeln!(table, "|---|---:|---:|---:|").unwrap();
    for (object, (ours, floor), own) in expansion {
        writeln!(table, "| {object} | {ours:.0} | {floor:.0} | {own:.1} |").unwrap();
    }
    println!("{table}");
}

/// Medians of `rounds` checks of each contender's crate; the contenders
/// take turns within a round, in a rotating order, so that noise from a
/// shared machine falls on all of them alike.
fn measure_object(work: &Path, object: &str, rounds: usize) -> [Cost; 3] {
    let mut samples: [Vec<Cost>; 3] = Default::default();
    for round in 0..rounds {
        for turn in 0..CONTENDERS.len() {
            let i = (round + turn) % CONTENDERS.len();
            let name = CONTENDERS[i].crate_name(object);
            touch(&work.join(&name).join("src/lib.rs"));
            let cost = cargo(work, &["check", "-p", &name]).expect("cargo check");
            samples[i].push(cost);
        }
        eprintln!("{object}: round {} of {rounds} done", round + 1);
    }
    samples.map(|s| {
        let mut cpu: Vec<f64> = s.iter().map(|c| c.cpu).collect();
        let mut peak: Vec<f64> = s.iter().map(|c| c.peak_mib).collect();
        Cost {
            cpu: median(&mut cpu),
            peak_mib: median(&mut peak),
        }
    })
}

/// The path of `object` in the repository.
fn object_path(object: &str) -> &'static str {
    OBJECTS
        .iter()
        .find(|(o, _)| *o == object)
        .expect("a measured object")
        .1
}

/// Median milliseconds of the macro's own work on `object`: reading it,
/// checking the model and writing the tokens (`ebpf_skeleton_codegen::expand`),
/// over `rounds` × 5 runs after one warm-up.
fn macro_run_time(object: &Path, rounds: usize) -> f64 {
    let options = ebpf_skeleton_codegen::ExpandOptions::default();
    let run = || {
        let start = Instant::now();
        let tokens = ebpf_skeleton_codegen::expand(object, &options).expect("expand the object");
        // Into text, as rustc takes a proc macro's output.
        std::hint::black_box(tokens.to_string());
        start.elapsed().as_secs_f64() * 1e3
    };
    run();
    let mut ms: Vec<f64> = (0..rounds * 5).map(|_| run()).collect();
    median(&mut ms)
}

/// Median milliseconds rustc spends in macro expansion of the `ours` and
/// `floor` crates of `object`, from `-Z time-passes` (made available on a
/// stable compiler with `RUSTC_BOOTSTRAP`, for this one crate only).
fn macro_expansion(work: &Path, object: &str, rounds: usize) -> (f64, f64) {
    let one = |contender: Contender| {
        let name = contender.crate_name(object);
        let mut ms: Vec<f64> = (0..rounds)
            .map(|_| {
                touch(&work.join(&name).join("src/lib.rs"));
                let out = cargo_command(work)
                    .env("RUSTC_BOOTSTRAP", "1")
                    .args(["rustc", "--offline", "--profile=check", "-p", &name])
                    .args(["--", "-Ztime-passes"])
                    .output()
                    .expect("run cargo rustc");
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success(),
                    "cargo rustc -p {name} failed:\n{stderr}"
                );
                expansion_ms(&stderr)
                    .unwrap_or_else(|| panic!("no macro expansion time in:\n{stderr}"))
            })
            .collect();
        median(&mut ms)
    };
    (one(Contender::Ours), one(Contender::Floor))
}

/// The `macro_expand_crate` pass's time from `-Z time-passes` output
/// (`time:   0.123; rss: ...  macro_expand_crate`).
fn expansion_ms(stderr: &str) -> Option<f64> {
    let line = stderr
        .lines()
        .find(|l| l.trim_end().ends_with("macro_expand_crate"))?;
    let secs = line.trim_start().strip_prefix("time:")?.split(';').next()?;
    Some(secs.trim().parse::<f64>().ok()? * 1000.0)
}

/// Runs cargo in `work`; returns what the process tree cost.
fn cargo(work: &Path, args: &[&str]) -> Result<Cost, String> {
    let child = cargo_command(work)
        .args(args)
        .args(["--offline", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run cargo: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let stderr = child.stderr.expect("piped stderr");
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (std's `Child` was given
    // up without waiting); `status` and `usage` are valid for writes.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let stderr = reader.join().unwrap_or_default();
    if reaped != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("cargo {} failed:\n{stderr}", args.join(" ")));
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Cost {
        cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
        // ru_maxrss of a reaped tree is its largest process's, in KiB.
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    })
}

/// Cargo (the one running this benchmark) in `work`, building into the
/// workspace's own target directory.
fn cargo_command(work: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command
        .current_dir(work)
        .env("CARGO_TARGET_DIR", work.join("target"));
    command
}

/// Marks `file` changed, as an edit would.
fn touch(file: &Path) {
    fs::File::options()
        .write(true)
        .open(file)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .unwrap_or_else(|e| panic!("touch {}: {e}", file.display()));
}

/// The target directory this benchmark was built in (`target/release/deps/..`).
fn scratch_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the benchmark's path");
    exe.ancestors()
        .nth(3)
        .expect("a target directory above the benchmark")
        .to_owned()
}

/// A workspace of three crates per object, sharing one target directory
/// and the repository's lock file (so no dependency is resolved anew).
fn write_workspace(repo: &Path, work: &Path) {
    let mut members = Vec::new();
    for (object, path) in OBJECTS {
        let object_path = repo.join(path);
        for contender in CONTENDERS {
            let name = contender.crate_name(object);
            let dir = work.join(&name);
            fs::create_dir_all(dir.join("src")).expect("create a crate");
            let (deps, lib) = crate_source(contender, repo, &object_path, &dir);
            write_if_changed(
                &dir.join("Cargo.toml"),
                &format!(
                    "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
                     publish = false\n\n[dependencies]\n{deps}"
                ),
            );
            write_if_changed(&dir.join("src/lib.rs"), &lib);
            members.push(format!("\"{name}\""));
        }
    }
    write_if_changed(
        &work.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    );
    let lock = work.join("Cargo.lock");
    if !lock.exists() {
        fs::copy(repo.join("Cargo.lock"), &lock).expect("copy Cargo.lock");
    }
}

/// A contender's dependencies and `lib.rs`.
fn crate_source(contender: Contender, repo: &Path, object: &Path, dir: &Path) -> (String, String) {
    let object = object.display();
    match contender {
        Contender::Ours => (
            format!(
                "ebpf-skeleton = {{ path = \"{}\" }}\n",
                repo.join("runtime").display()
            ),
            format!("ebpf_skeleton::ebpf_skeleton!(\"{object}\");\n"),
        ),
        Contender::LibbpfCargo => {
            let skel = dir.join("src/skel.rs");
            libbpf_cargo::SkeletonBuilder::new()
                .obj(object.to_string())
                .reference_obj(true)
                .generate(&skel)
                .expect("libbpf-cargo generates a skeleton");
            (
                "libbpf-rs = \"0.27\"\n".to_owned(),
                "#![allow(warnings)]\nmod skel;\npub use skel::*;\n".to_owned(),
            )
        }
        Contender::Floor => (
            String::new(),
            format!("pub static OBJECT: &[u8] = include_bytes!(\"{object}\");\n"),
        ),
    }
}

/// Writes `text` unless the file already holds it, so that a rerun keeps
/// what cargo has already built.
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}
