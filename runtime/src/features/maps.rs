//! The map type probe: the smallest map of each kind, with what the kind
//! demands (sizes, flags, an inner map, BTF).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use libbpf_sys as sys;

use super::{could_not_tell, refused, Support};
use crate::asm::Instructions;
use crate::error::Result;
use crate::os::errno::{check, code_of};
use crate::os::mmap::page_size;
use crate::program::func_info::func_info;
use crate::MapType;

/// `struct bpf_cgroup_storage_key`: a cgroup id and an attach type, padded.
const CGROUP_STORAGE_KEY: u32 = 16;
/// The kernel's "not supported", which it answers a struct_ops map of a
/// type that is no struct_ops type: a kernel without struct_ops maps says
/// `EINVAL` first.
const ENOTSUPP: i32 = crate::os::errno::ENOTSUPP;

/// A map to create: its sizes and options, and what must stay open while
/// it is created.
struct Attributes {
    key: u32,
    value: u32,
    max_entries: u32,
    opts: sys::bpf_map_create_opts,
    _keep: Vec<OwnedFd>,
}

pub(super) fn map_type(kind: MapType) -> Result<Support> {
    let feature = format!("map type {kind}");
    let attributes =
        attributes(kind).map_err(|(source, reason)| could_not_tell(&feature, source, reason))?;
    // SAFETY: the options and the descriptors they name outlive the call;
    // NULL names the map nothing.
    let ret = unsafe {
        sys::bpf_map_create(
            kind.0,
            std::ptr::null(),
            attributes.key,
            attributes.value,
            attributes.max_entries,
            &attributes.opts,
        )
    };
    match check(ret) {
        Ok(fd) => {
            // SAFETY: the kernel just returned this descriptor to us.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            Ok(Support::Supported)
        }
        Err(source) if kind == MapType::STRUCT_OPS && code_of(&source) == Some(ENOTSUPP) => {
            Ok(Support::Supported)
        }
        Err(source) => {
            let hint = (source.raw_os_error() == Some(libc::EPERM))
                .then(|| "creating maps needs root or CAP_BPF".to_owned());
            refused(feature, source, hint)
        }
    }
}

type Problem = (io::Error, String);

/// The smallest map of `kind` the kernel takes.
fn attributes(kind: MapType) -> std::result::Result<Attributes, Problem> {
    let mut a = Attributes {
        key: 4,
        value: 4,
        max_entries: 1,
        opts: sys::bpf_map_create_opts {
            sz: size_of::<sys::bpf_map_create_opts>() as _,
            ..Default::default()
        },
        _keep: Vec::new(),
    };
    match kind {
        MapType::RINGBUF | MapType::USER_RINGBUF => {
            (a.key, a.value, a.max_entries) = (0, 0, page_size() as u32)
        }
        MapType::QUEUE | MapType::STACK | MapType::BLOOM_FILTER => a.key = 0,
        MapType::LPM_TRIE => {
            (a.key, a.opts.map_flags) = (8, sys::BPF_F_NO_PREALLOC);
        }
        MapType::STACK_TRACE => a.value = 8,
        MapType::CGROUP_STORAGE | MapType::PERCPU_CGROUP_STORAGE => {
            (a.key, a.value, a.max_entries) = (CGROUP_STORAGE_KEY, 8, 0)
        }
        MapType::ARENA => {
            (a.key, a.value) = (0, 0);
            a.opts.map_flags = sys::BPF_F_MMAPABLE;
        }
        MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS => {
            let inner = create(sys::BPF_MAP_TYPE_ARRAY, 4, 4, 1)?;
            a.opts.inner_map_fd = inner.as_raw_fd() as u32;
            a._keep.push(inner);
        }
        MapType::SK_STORAGE
        | MapType::INODE_STORAGE
        | MapType::TASK_STORAGE
        | MapType::CGRP_STORAGE => {
            // Keys and values described by BTF: an `int` each.
            let btf = int_btf()?;
            a.opts.btf_fd = btf.as_raw_fd() as u32;
            (a.opts.btf_key_type_id, a.opts.btf_value_type_id) = (1, 1);
            a.opts.map_flags = sys::BPF_F_NO_PREALLOC;
            a.max_entries = 0;
            a._keep.push(btf);
        }
        MapType::STRUCT_OPS => {
            // BTF type 1 of vmlinux is no struct_ops value type. (Kernels
            // before 6.9 refuse attributes they lack that are not 0, so
            // `value_type_btf_obj_fd` stays 0: no flag says it is given.)
            a.opts.btf_vmlinux_value_type_id = 1;
        }
        _ => {}
    }
    Ok(a)
}

fn create(
    kind: u32,
    key: u32,
    value: u32,
    max_entries: u32,
) -> std::result::Result<OwnedFd, Problem> {
    // SAFETY: a plain map creation; NULL options take the defaults.
    let ret = unsafe {
        sys::bpf_map_create(
            kind,
            std::ptr::null(),
            key,
            value,
            max_entries,
            std::ptr::null(),
        )
    };
    let fd = check(ret).map_err(|e| (e, "creating the inner map of the probe".to_owned()))?;
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A loaded BTF whose type 1 is `int`.
fn int_btf() -> std::result::Result<OwnedFd, Problem> {
    let info = func_info("probe", &Instructions::new(), &[0]);
    // SAFETY: the BTF bytes outlive the call; NULL options take the
    // defaults.
    let ret = unsafe {
        sys::bpf_btf_load(
            info.btf.as_ptr().cast(),
            info.btf.len() as _,
            std::ptr::null_mut(),
        )
    };
    let fd = check(ret).map_err(|e| {
        (
            e,
            "loading the BTF of the probe's keys and values".to_owned(),
        )
    })?;
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
