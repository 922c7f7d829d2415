// `asm!` assembles at compile time what `Instructions::parse` assembles at
// run time, labels and map names included; run, not only compiled.
use ebpf_skeleton::asm::{Instructions, ReferenceKind};

fn main() {
    let program = ebpf_skeleton::asm! {
        // The key, on the stack.
        *(u32 *)(r10 - 0x4) = 0x0
        r2 = r10
        r2 += -4
        r1 = map(counts) ll
        call bpf_map_lookup_elem
        if r0 == 0x0 goto out
        r1 = 1
        lock *(u64 *)(r0 + 0x0) += r1
      out:
        r0 = 0; exit
    };
    let text = "\
*(u32 *)(r10 - 0x4) = 0x0
r2 = r10
r2 += -0x4
r1 = map(counts) ll
call 0x1
if r0 == 0x0 goto out
r1 = 0x1
lock *(u64 *)(r0 + 0x0) += r1
out:
r0 = 0x0
exit
";
    assert_eq!(program.to_string(), text);
    assert_eq!(program, text.parse::<Instructions>().unwrap());
    let references: Vec<_> = program.references().collect();
    assert_eq!(references, [(3, ReferenceKind::Map, "counts"), (5, ReferenceKind::Label, "out")]);
    assert_eq!(program.label("out"), Some(8));

    // Every form prints as it parses, the signed operators and `s>>=` too.
    let signed = ebpf_skeleton::asm! {
        w1 s>>= w2
        r1 s/= -3
        if w1 s<= 0x3 goto +0x0
        r1 = (s8)r2
        r0 = *(s16 *)(r1 + 0x2)
        r0 = atomic_fetch_add((u64 *)(r10 - 0x8), r0)
        exit
    };
    assert_eq!(
        signed.to_string(),
        "w1 s>>= w2\nr1 s/= -0x3\nif w1 s<= 0x3 goto +0x0\nr1 = (s8)r2\n\
         r0 = *(s16 *)(r1 + 0x2)\nr0 = atomic_fetch_add((u64 *)(r10 - 0x8), r0)\nexit\n"
    );
    assert!(ebpf_skeleton::asm! {}.is_empty());
}
