// A jump to a label no instruction has, and a helper misnamed.
fn main() {
    let _ = ebpf_skeleton::asm! {
        if r1 == 0 goto done
        call ktime_get_ns
      don:
        exit
    };
}
