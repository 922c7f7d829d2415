//! Rust names for C types.

/// `flow_key` → `FlowKey`, `__u32` → `U32`, `sockaddr_in6` → `SockaddrIn6`.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split(|c: char| c == '_' || !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Anon");
    }
    // `struct self` is valid C; `Self` cannot name a Rust type.
    if out == "Self" {
        out.push('_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::camel;

    #[test]
    fn c_names_become_camel_case() {
        assert_eq!(camel("flow_key"), "FlowKey");
        assert_eq!(camel("__u32"), "U32");
        assert_eq!(camel("event"), "Event");
        assert_eq!(camel("sockaddr_in6"), "SockaddrIn6");
        assert_eq!(camel(""), "Anon");
        assert_eq!(camel(".data.stats"), "DataStats");
        assert_eq!(camel("self"), "Self_");
    }
}
