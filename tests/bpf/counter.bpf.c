// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Counts getppid(2) calls per calling thread, once from a tracepoint and once
 * from a raw tracepoint, so tests can check attach, autoload and map reads. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* thread id */
	__type(value, __u64); /* getppid calls */
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} raw_counts SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int count_getppid(struct trace_event_raw_sys_enter *ctx)
{
	count_in(&counts, current_tid());
	return 0;
}

SEC("raw_tp/sys_enter")
int count_getppid_raw(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID)
		count_in(&raw_counts, current_tid());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
