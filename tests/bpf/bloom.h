/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The maps of bloom.bpf.c and bloom_stack.bpf.c: two objects, so that a
 * kernel that rejects one program still loads the other. */
#ifndef BLOOM_H
#define BLOOM_H

#include "common.h"

#define OP_WRITE 0

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
} bloom SEC(".maps");

static __always_inline void report(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&out, &slot, &value, BPF_ANY);
}

#endif
