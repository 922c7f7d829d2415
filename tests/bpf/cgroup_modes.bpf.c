// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Two sysctl programs that count every run, for the attach-mode tests that
 * run them in cgroups of their own (child processes reading a sysctl). */
#include "common.h"

enum slot { SYSCTL_A, SYSCTL_B, NR_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void count_hit(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&hits, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("cgroup/sysctl")
int sysctl_a(struct bpf_sysctl *ctx)
{
	count_hit(SYSCTL_A);
	return 1;
}

SEC("cgroup/sysctl")
int sysctl_b(struct bpf_sysctl *ctx)
{
	count_hit(SYSCTL_B);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
