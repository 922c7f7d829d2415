// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A kprobe: loads on any kernel with BPF tracing, attaches only on kernels
 * built with kprobe support. The tests check the error says so clearly. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("kprobe/__x64_sys_getppid")
int probe_getppid(struct pt_regs *ctx)
{
	count_in(&hits, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
