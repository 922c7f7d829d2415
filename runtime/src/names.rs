//! Names: "did you mean" (the closest of a set of names, for lookup
//! errors), and names as the kernel takes them for maps and programs.

/// The most bytes of a name the kernel keeps (`BPF_OBJ_NAME_LEN` less the
/// NUL); libbpf cuts longer names.
const KERNEL_NAME_LEN: usize = 15;

/// The candidate closest to `name` by edit distance, if one is close enough
/// to be a likely typo (a third of the longer name's length, at least 1).
pub(crate) fn nearest(
    name: &str,
    candidates: impl IntoIterator<Item = impl AsRef<str>>,
) -> Option<String> {
    candidates
        .into_iter()
        .filter(|c| !c.as_ref().is_empty() && c.as_ref() != name)
        .map(|c| (distance(name, c.as_ref()), c.as_ref().to_owned()))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `name` as the kernel takes it: letters, digits, `_` and `.`, of which
/// it keeps the first 15 bytes.
pub(crate) fn kernel_name(name: &str) -> std::result::Result<std::ffi::CString, String> {
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
    {
        return Err(format!(
            "its name holds {bad:?}; the kernel takes only ASCII letters, digits, `_` and `.` \
             in names"
        ));
    }
    let kept = &name[..name.len().min(KERNEL_NAME_LEN)];
    std::ffi::CString::new(kept).map_err(|_| "its name holds a NUL byte".to_owned())
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_name() {
        let names = ["counts", "events", "handle_exec"];
        assert_eq!(nearest("cuonts", names).as_deref(), Some("counts"));
        assert_eq!(nearest("handle_exe", names).as_deref(), Some("handle_exec"));
        assert_eq!(nearest("totally_else", names), None);
    }

    #[test]
    fn names_are_checked_and_cut_as_the_kernel_does() {
        assert_eq!(kernel_name("counts").unwrap().to_bytes(), b"counts");
        assert_eq!(
            kernel_name("a_very_long_map_name.v2").unwrap().to_bytes(),
            b"a_very_long_map"
        );
        let err = kernel_name("my-map").unwrap_err();
        assert!(err.contains("'-'"), "{err}");
        assert!(kernel_name("m\0").is_err());
    }
}
