//! `info OBJ`: what the skeleton holds, with what libbpf says of each
//! program and map (type, hook, sizes).

use std::io::Write;
use std::path::Path;

use ebpf_skeleton::OpenObject;
use ebpf_skeleton_codegen::{ExpandOptions, Info};

use crate::Result;

pub fn print(object: &Path, out: &mut impl Write) -> Result {
    let info = ebpf_skeleton_codegen::info(object, &ExpandOptions::default())?;
    // libbpf only parses here (no privileges, nothing in the kernel).
    let open = OpenObject::from_file(object)?;
    header(&info, out)?;
    writeln!(out, "\nprograms:")?;
    for p in &info.programs {
        let spec = open.program_spec(&p.name)?;
        let hook = if ebpf_skeleton::section::names_hook(&p.section) {
            "attaches by itself"
        } else {
            "needs a target to attach"
        };
        writeln!(
            out,
            "  {:<24} section {:<36} type {:<16} {hook}",
            p.name,
            p.section,
            spec.program_type().to_string()
        )?;
    }
    writeln!(out, "\nmaps:")?;
    for m in &info.maps {
        let spec = open.map_spec(&m.name)?;
        writeln!(
            out,
            "  {:<24} {:<16} key {:<24} value {:<24} max_entries {:<8} field {}",
            m.name,
            m.kind.unwrap_or("(no BTF kind)"),
            sized(m.key.as_deref(), spec.key_size()),
            sized(m.value.as_deref(), spec.value_size()),
            spec.max_entries,
            m.field_type
        )?;
    }
    writeln!(out, "\ndata sections:")?;
    for s in &info.sections {
        let access = if s.writable { "writable" } else { "read-only" };
        writeln!(
            out,
            "  {} (field `{}`, {} bytes, {access})",
            s.name, s.field, s.size
        )?;
        for v in &s.variables {
            writeln!(out, "    +{:<6} {}: {}", v.offset, v.name, v.ty)?;
        }
    }
    writeln!(out, "\ntypes:")?;
    if info.types.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for t in &info.types {
        let size = t.size.map(|s| format!(", {s} bytes")).unwrap_or_default();
        let c_name = if t.c_name.is_empty() {
            "anonymous"
        } else {
            &t.c_name
        };
        writeln!(out, "  {} types::{} (C `{c_name}`{size})", t.kind, t.name)?;
    }
    Ok(())
}

fn header(info: &Info, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "object `{}`: module `{}`, {} program(s), {} map(s), {} data section(s), {} type(s)",
        info.name,
        info.module,
        info.programs.len(),
        info.maps.len(),
        info.sections.len(),
        info.types.len()
    )
}

/// `u32 (4 B)`, or the size alone where BTF gives no type.
fn sized(ty: Option<&str>, size: u32) -> String {
    match ty {
        Some(ty) => format!("{ty} ({size} B)"),
        None if size == 0 => "-".to_owned(),
        None => format!("{size} B"),
    }
}
