// A mnemonic the instruction set does not have.
fn main() {
    let _ = ebpf_skeleton::asm! {
        r0 = 0
        frobnicate r1
        exit
    };
}
