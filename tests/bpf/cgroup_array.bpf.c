// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A cgroup array: the raw_tp program asks whether the task running it is
 * under the cgroup in each slot and reports the answers in `under` (1 yes,
 * 0 no, a negative errno for an empty slot). */
#include "common.h"

#define SLOTS 2

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} cgroups SEC(".maps");

long under[SLOTS];

SEC("raw_tp")
int ask_under(void *ctx)
{
	for (__u32 i = 0; i < SLOTS; i++)
		under[i] = bpf_current_task_under_cgroup(&cgroups, i);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
