//! `ebpf-skeleton`: what users otherwise do with bpftool and llvm-objdump,
//! for the objects `ebpf_skeleton!` reads.
//!
//! - `info OBJ`: programs (section, type, hook), maps (kind, key and value
//!   types and sizes), data sections and their variables, generated types;
//! - `expand OBJ`: the Rust the macro generates, formatted;
//! - `disasm OBJ [PROGRAM]`: the instructions, with the maps they load;
//! - `vmlinux [BTF]`: `vmlinux.h` from the running kernel's BTF or a file;
//! - `new NAME`: a project that builds and runs at once.

mod disasm;
mod info;
mod new;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ebpf_skeleton_codegen::ExpandOptions;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[derive(Parser)]
#[command(
    name = "ebpf-skeleton",
    version,
    about = "Inspect eBPF objects, expand their skeletons, start projects"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Programs, maps, data sections and the types the skeleton generates.
    Info {
        /// The compiled object (`prog.bpf.o`).
        object: PathBuf,
    },
    /// The Rust `ebpf_skeleton!` generates for an object, formatted.
    Expand {
        /// The compiled object.
        object: PathBuf,
        /// C types to generate beyond those maps and globals reach.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// The runtime's name when the dependency is renamed.
        #[arg(long = "crate")]
        krate: Option<String>,
        /// The module's name (default: the object's).
        #[arg(long)]
        module: Option<String>,
        /// The path `include_bytes!` embeds the object from, relative to
        /// the file the output goes to (default: the object's absolute path).
        #[arg(long)]
        embed: Option<String>,
    },
    /// The instructions of every program (or of one), as llvm-objdump
    /// prints them, with the maps they refer to.
    Disasm {
        /// The compiled object.
        object: PathBuf,
        /// Only this program.
        program: Option<String>,
    },
    /// Writes vmlinux.h: every type of the kernel's BTF, as C.
    Vmlinux {
        /// A BTF file (raw BTF or an ELF file with `.BTF`); the running
        /// kernel's when not given.
        btf: Option<PathBuf>,
        /// Where to write (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Creates a project: C program, build.rs, main.rs, README.
    New {
        /// The project's name, also its directory's.
        name: String,
        /// The ebpf-skeleton checkout to depend on (default: the one this
        /// tool was built from, if it is still there).
        #[arg(long)]
        path: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        // `ebpf-skeleton info ... | head` is not a failure.
        Err(e) if is_broken_pipe(&*e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ebpf-skeleton: {e}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

fn run(command: Command) -> Result {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Info { object } => info::print(&object, &mut out),
        Command::Expand {
            object,
            types,
            krate,
            module,
            embed,
        } => {
            let options = ExpandOptions {
                types,
                krate,
                module,
                embed,
            };
            out.write_all(expand(&object, &options)?.as_bytes())?;
            Ok(())
        }
        Command::Disasm { object, program } => disasm::print(&object, program.as_deref(), &mut out),
        Command::Vmlinux { btf, output } => vmlinux(btf, output),
        Command::New { name, path } => new::create(&name, path),
    }
}

/// The skeleton's module as rustfmt would lay it out.
fn expand(object: &std::path::Path, options: &ExpandOptions) -> Result<String> {
    let tokens = ebpf_skeleton_codegen::expand(object, options)?;
    let file: syn::File = syn::parse2(tokens)?;
    Ok(format!(
        "// The skeleton of `{}`, as `ebpf_skeleton!` expands it.\n{}",
        object.display(),
        spaced_docs(&prettyplease::unparse(&file))
    ))
}

/// `///Text` as `/// Text`: the generated doc attributes hold their text
/// alone, which rustdoc reads either way but a reader expects spaced.
fn spaced_docs(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    for line in code.split_inclusive('\n') {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        match body.strip_prefix("///") {
            Some(rest) if !rest.starts_with([' ', '\n', '/']) => {
                out.push_str(indent);
                out.push_str("/// ");
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn vmlinux(btf: Option<PathBuf>, output: Option<PathBuf>) -> Result {
    use ebpf_skeleton::btf::Btf;
    let btf = match btf {
        Some(path) => Btf::from_file(path)?,
        None => Btf::kernel()?,
    };
    match output {
        Some(path) => {
            let file = std::fs::File::create(&path)
                .map_err(|e| format!("creating {}: {e}", path.display()))?;
            btf.write_c_header(&file)?;
        }
        None => btf.write_c_header(std::io::stdout())?,
    }
    Ok(())
}
