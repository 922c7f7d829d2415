// Every mistake in one program is reported, each at its line.
fn main() {
    let _ = ebpf_skeleton::asm! {
      start:
        r0 = 0; r1 = rr2
        w1 += r2
        if r1 > 0 goto nowhere
      start:
        r1 = *(u24 *)(r2 + 0)
        exit
      end:
    };
}
