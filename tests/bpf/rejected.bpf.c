// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A program the verifier must reject: it dereferences a map value without
 * checking it for NULL. The tests check the error carries the verifier log. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int unchecked_lookup(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&values, &key);

	*value += 1; /* no NULL check: rejected */
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
