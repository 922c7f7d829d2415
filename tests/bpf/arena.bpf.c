// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An arena (Linux 6.9). libbpf places the arena global `in_arena` in the
 * arena when it loads the object; `publish` tells user space where
 * (`global_addr`) and answers in it (`from_prog = from_user + 1`, `runs`
 * counted), and in the `struct shared` at the address user space gave it in
 * `user_addr`, if any: a pointer into a page the program did not allocate. */
#include "common.h"

#define BPF_MAP_TYPE_ARENA 33 /* not in Linux 6.1's headers */
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

struct shared __arena in_arena;

__u64 global_addr;
__u64 user_addr;

SEC("syscall")
int publish(void *ctx)
{
	global_addr = (__u64)&in_arena;
	answer(&in_arena);
	if (user_addr)
		answer((struct shared __arena *)user_addr);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
