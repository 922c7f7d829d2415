// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A netfilter program (Linux 6.4), apart from netns_hooks.bpf.c so that
 * older kernels refuse only it: it counts what the namespace sends and
 * drops it while `drop` is set. */
#include "common.h"

enum slot { FILTERED, DROPPED, NR_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

__u32 drop;

static __always_inline void count_hit(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&hits, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}

#define NF_DROP 0
#define NF_ACCEPT 1

SEC("netfilter")
int filter(void *ctx)
{
	count_hit(FILTERED);
	if (!drop)
		return NF_ACCEPT;
	count_hit(DROPPED);
	return NF_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
