// Well-formed instructions the kernel's verifier rejects on their own.
fn main() {
    let _ = ebpf_skeleton::asm! {
        r10 = 0
        r1 <<= 64
        w1 /= 0
        w1 = (s32)w2
        lock *(u8 *)(r1 + 0) += w2
        exit
    };
}
