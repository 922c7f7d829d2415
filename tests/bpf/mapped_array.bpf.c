// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mmap-able arrays (BPF_F_MMAPABLE, Linux 5.5), which user space reads and
 * writes where they lie. `answer_slots` answers in every slot of `slots`
 * (12-byte values, so the kernel pads each to 16); `count` adds one to
 * `counters[0]` atomically, racing with user space doing the same. */
#include "common.h"

#define SLOTS 600

struct triple {
	__u32 from_user;
	__u32 from_prog;
	__u32 index;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, struct triple);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Not mmap-able: user space cannot map it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

SEC("raw_tp")
int answer_slots(void *ctx)
{
	for (__u32 i = 0; i < SLOTS; i++) {
		__u32 key = i;
		struct triple *v = bpf_map_lookup_elem(&slots, &key);

		if (v) {
			v->from_prog = v->from_user + 1;
			v->index = i;
		}
	}
	return 0;
}

SEC("raw_tp")
int count(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
