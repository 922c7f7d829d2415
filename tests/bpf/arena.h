/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The arena map and shared struct of arena.bpf.c and arena_pages.bpf.c. */
#pragma once

#include "common.h"

#define BPF_MAP_TYPE_ARENA 33 /* not in Linux 6.1's headers */
#define NUMA_NO_NODE -1
#define __arena __attribute__((address_space(1)))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4); /* pages */
} arena SEC(".maps");

struct shared {
	__u64 from_user;
	__u64 from_prog;
	__u64 runs;
};

static __always_inline void answer(struct shared __arena *s)
{
	s->from_prog = s->from_user + 1;
	s->runs++;
}
