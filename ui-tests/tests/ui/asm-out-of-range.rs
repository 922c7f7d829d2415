// Offsets, immediates and registers that do not fit their fields, and a
// jump out of the program.
fn main() {
    let _ = ebpf_skeleton::asm! {
        r1 = *(u32 *)(r10 - 0x8001)
        goto +40000
        r1 = 0x80000000
        r11 = 0
        goto -0x10
        exit
    };
}
