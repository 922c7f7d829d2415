//! Every compile error `ebpf_skeleton!` can give, with its exact message,
//! and the inputs that must compile.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
