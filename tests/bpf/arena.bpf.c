// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An arena (Linux 6.9) holding a global: libbpf places `in_arena` in the
 * arena's last page when it loads the object. `publish` tells user space
 * where it is (`global_addr`) and answers in it on each run (`from_prog =
 * from_user + 1`, `runs` counted). */
#include "arena.h"

struct shared __arena in_arena;

__u64 global_addr;

SEC("syscall")
int publish(void *ctx)
{
	global_addr = (__u64)&in_arena;
	answer(&in_arena);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
