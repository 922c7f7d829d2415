// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Two programs with a map each, for loading part of an object: a struct
 * naming `derive_keep` must load it and `keep_counts`, and neither
 * `derive_drop` nor `drop_counts`. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} keep_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} drop_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

__u64 kept_calls = 0;

SEC("tp/syscalls/sys_enter_getppid")
int derive_keep(void *ctx)
{
	count_in(&keep_counts, current_tid());
	__sync_fetch_and_add(&kept_calls, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int derive_drop(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID)
		count_in(&drop_counts, current_tid());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
