/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What several test objects share: `target`, the thread id a test writes
 * (programs count only that thread: tests in one binary run as threads of
 * one process), and `hits`, one counter per program slot. Define NR_SLOTS
 * before including. */
#pragma once

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* thread id to count, 0 for none */
} target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int is_target(void)
{
	__u32 zero = 0, *tid = bpf_map_lookup_elem(&target, &zero);

	return tid && *tid && *tid == current_tid();
}

static __always_inline void count_hit(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&hits, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}
