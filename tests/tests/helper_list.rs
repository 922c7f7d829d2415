//! The asm module's list of helpers against libbpf's own
//! (`bpf_helper_defs.h`, generated from the kernel's UAPI header): every
//! helper libbpf declares has the same id and name here, and nothing more.

use ebpf_skeleton::asm::Helper;

/// `(id, name)` of each `static ... (* const bpf_NAME)(...) = (void *) ID;`.
fn libbpf_helpers() -> Vec<(i32, String)> {
    let path = concat!(env!("LIBBPF_INCLUDE"), "/bpf/bpf_helper_defs.h");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter_map(|line| {
            let name = line.split("(* const bpf_").nth(1)?.split(')').next()?;
            let id = line.rsplit("(void *) ").next()?.strip_suffix(';')?;
            Some((id.parse().ok()?, name.to_owned()))
        })
        .collect()
}

#[test]
fn every_helper_libbpf_declares_has_its_id_and_name() {
    let libbpf = libbpf_helpers();
    assert!(libbpf.len() > 200, "{} helpers read", libbpf.len());
    for (id, name) in &libbpf {
        let helper = Helper::from_id(*id).unwrap_or_else(|| panic!("no helper {id} ({name})"));
        assert_eq!(helper.name(), name, "helper {id}");
        assert_eq!(Helper::from_name(name), Some(helper));
    }
    // Id 0 is `unspec`; every other one is libbpf's.
    assert_eq!(Helper::ALL.len(), libbpf.len() + 1);
    assert_eq!(Helper::ALL[0].name(), "unspec");
}
