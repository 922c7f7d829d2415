//! The kernel's symbols (`/proc/kallsyms`), for naming what a translated
//! program calls: the kernel writes a helper or kfunc call's target as its
//! distance from `__bpf_call_base`.

use std::collections::HashMap;
use std::sync::Mutex;

/// What was found in earlier scans: `__bpf_call_base`, and the names of
/// core kernel functions (not modules', which may be reloaded elsewhere)
/// by address. Scanning the file takes a while; programs call the same few
/// helpers.
static FOUND: Mutex<Option<(u64, HashMap<u64, String>)>> = Mutex::new(None);

/// The names of the functions at `__bpf_call_base + offset` for each of
/// `offsets`, as far as `/proc/kallsyms` shows addresses (it shows zeros to
/// processes that may not see them, and then nothing is named).
pub(crate) fn call_targets(offsets: &[i32]) -> HashMap<i32, String> {
    let mut names = HashMap::new();
    let mut found = FOUND.lock().unwrap_or_else(|e| e.into_inner());
    // Read once a call, and only when something is not known yet.
    let mut text: Option<String> = None;
    let read = || std::fs::read_to_string("/proc/kallsyms").ok();
    if found.is_none() && !offsets.is_empty() {
        text = read();
        let Some(base) = text
            .as_deref()
            .and_then(|t| address_of(t, "__bpf_call_base"))
        else {
            return names;
        };
        *found = Some((base, HashMap::new()));
    }
    let Some((base, known)) = found.as_mut() else {
        return names;
    };
    for &offset in offsets {
        let address = base.wrapping_add_signed(i64::from(offset));
        if let Some(name) = known.get(&address) {
            names.insert(offset, name.clone());
            continue;
        }
        if text.is_none() {
            text = read();
        }
        if let Some((name, core)) = text.as_deref().and_then(|t| name_at(t, address)) {
            if core {
                known.insert(address, name.to_owned());
            }
            names.insert(offset, name.to_owned());
        }
    }
    names
}

/// The address of the symbol `name` (0, and so `None`, when hidden).
fn address_of(text: &str, name: &str) -> Option<u64> {
    let at = text.find(&format!(" {name}\n"))?;
    let line = &text[text[..at].rfind('\n').map_or(0, |i| i + 1)..at];
    let address = u64::from_str_radix(line.split(' ').next()?, 16).ok()?;
    (address != 0).then_some(address)
}

/// The first symbol at `address`, and whether it is the core kernel's (not
/// a module's).
fn name_at(text: &str, address: u64) -> Option<(&str, bool)> {
    let key = format!("{address:016x} ");
    let start = if text.starts_with(&key) {
        0
    } else {
        text.find(&format!("\n{key}"))? + 1
    };
    let line = text[start..].lines().next()?;
    // `address type name [module]`
    let mut fields = line.split_whitespace().skip(2);
    Some((fields.next()?, fields.next().is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_found_by_address_and_name() {
        let text = "ffffffff81000000 T _stext\nffffffff814cc810 T __bpf_call_base\n\
                    ffffffff8150e310 T bpf_get_current_pid_tgid\nffffffffc0001000 t mod_fn\t[mod]\n";
        let base = address_of(text, "__bpf_call_base").unwrap();
        assert_eq!(base, 0xffff_ffff_814c_c810);
        assert_eq!(
            name_at(text, base + 0x41b00),
            Some(("bpf_get_current_pid_tgid", true))
        );
        assert_eq!(name_at(text, 0xffff_ffff_8100_0000), Some(("_stext", true)));
        assert_eq!(
            name_at(text, 0xffff_ffff_c000_1000),
            Some(("mod_fn", false))
        );
        assert_eq!(name_at(text, 1), None);
        assert_eq!(
            address_of("0000000000000000 T __bpf_call_base\n", "__bpf_call_base"),
            None
        );
    }
}
