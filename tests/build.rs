//! Link flags for the USDT target binary, and where libbpf's headers are.

fn main() {
    // Every segment starts on a page of the file of its own. Otherwise lld
    // lets the RELRO segment and the data segment share a file page, and
    // a process started after an attach to every process gets its USDT
    // semaphore counted in the wrong mapping: the kernel bumps the first
    // writable mapping of the semaphore's file page, which at exec is the
    // RELRO copy (read-only once the dynamic loader has relocated).
    println!("cargo:rustc-link-arg-bin=usdt_target=-Wl,-z,separate-loadable-segments");
    // libbpf-sys's build script installs libbpf's headers and says where
    // (`links = "bpf"`, `cargo:include=`).
    if let Ok(include) = std::env::var("DEP_BPF_INCLUDE") {
        println!("cargo:rustc-env=LIBBPF_INCLUDE={include}");
    }
}
