//! The one table of map kinds the macros know: which typed map holds each
//! `BPF_MAP_TYPE_*`, with which type parameters, and the kinds' names. The
//! skeleton picks field types from it and the derive checks fields with it.

/// Which of the BTF key and value a typed map takes as type parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Params {
    /// `Name<K, V>`
    KeyValue,
    /// `Name<K>` (the value is an inner map).
    Key,
    /// `Name<V>` (the key is an index, or there is none).
    Value,
    /// `Name`
    None,
}

/// A typed map of the runtime and the kinds it opens.
pub struct TypedMap {
    pub name: &'static str,
    pub kinds: &'static [u32],
    pub params: Params,
}

const fn typed(name: &'static str, kinds: &'static [u32], params: Params) -> TypedMap {
    TypedMap {
        name,
        kinds,
        params,
    }
}

/// Every typed map of the runtime, by the kinds it accepts.
const TYPED_MAPS: &[TypedMap] = &[
    typed("HashMap", &[1, 9], Params::KeyValue),
    typed("Array", &[2], Params::Value),
    typed("PerCpuHashMap", &[5, 10], Params::KeyValue),
    typed("PerCpuArray", &[6], Params::Value),
    typed("LpmTrie", &[11], Params::KeyValue),
    typed("Queue", &[22], Params::Value),
    typed("Stack", &[23], Params::Value),
    typed("BloomFilter", &[30], Params::Value),
    typed("ProgramArray", &[3], Params::None),
    typed("ArrayOfMaps", &[12], Params::None),
    typed("HashOfMaps", &[13], Params::Key),
    typed("StackTraceMap", &[7], Params::None),
    typed("RingBuf", &[27], Params::None),
    typed("PerfEventArray", &[4], Params::None),
    // After `Array`: the skeleton gives mmap-able arrays as `Array`s (the
    // kind is the same); a derive field may ask for this view of one.
    typed("MappedArray", &[2], Params::Value),
    typed("SkStorage", &[24], Params::Value),
    typed("TaskStorage", &[29], Params::Value),
    typed("InodeStorage", &[28], Params::Value),
    typed("CgrpStorage", &[32], Params::Value),
    typed("DevMap", &[14], Params::None),
    typed("DevMapHash", &[25], Params::None),
    typed("CpuMap", &[16], Params::None),
    typed("XskMap", &[17], Params::None),
    typed("SockMap", &[15], Params::None),
    typed("SockHash", &[18], Params::Key),
    typed("CgroupArray", &[8], Params::None),
    typed("ReuseportArray", &[20], Params::None),
    typed("UserRingBuf", &[31], Params::None),
    typed("Arena", &[33], Params::None),
];

/// The typed map that holds maps of `kind`.
pub fn for_kind(kind: u32) -> Option<&'static TypedMap> {
    TYPED_MAPS.iter().find(|t| t.kinds.contains(&kind))
}

/// The typed map named `name` (a field type's last path segment).
pub fn by_name(name: &str) -> Option<&'static TypedMap> {
    TYPED_MAPS.iter().find(|t| t.name == name)
}

/// The kind's name as libbpf and bpftool spell it.
pub fn kind_name(kind: u32) -> &'static str {
    const NAMES: &[&str] = &[
        "unspec",
        "hash",
        "array",
        "prog_array",
        "perf_event_array",
        "percpu_hash",
        "percpu_array",
        "stack_trace",
        "cgroup_array",
        "lru_hash",
        "lru_percpu_hash",
        "lpm_trie",
        "array_of_maps",
        "hash_of_maps",
        "devmap",
        "sockmap",
        "cpumap",
        "xskmap",
        "sockhash",
        "cgroup_storage",
        "reuseport_sockarray",
        "percpu_cgroup_storage",
        "queue",
        "stack",
        "sk_storage",
        "devmap_hash",
        "struct_ops",
        "ringbuf",
        "inode_storage",
        "task_storage",
        "bloom_filter",
        "user_ringbuf",
        "cgrp_storage",
        "arena",
    ];
    NAMES.get(kind as usize).copied().unwrap_or("unknown kind")
}
