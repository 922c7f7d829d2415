// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An arena whose pages the program allocates (`bpf_arena_alloc_pages`, a
 * kfunc). `publish` allocates a page on its first run and tells user space
 * where in `out[0]`; each run answers in it. */
#include "arena.h"

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt,
				    int node_id, __u64 flags) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

struct shared __arena *page;

SEC("syscall")
int publish(void *ctx)
{
	__u32 zero = 0;
	__u64 *addr = bpf_map_lookup_elem(&out, &zero);

	if (!addr)
		return 1;
	if (!page) {
		page = bpf_arena_alloc_pages(&arena, 0, 1, NUMA_NO_NODE, 0);
		if (!page)
			return 2;
		*addr = (__u64)page;
	}
	answer(page);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
