// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A data section larger than a thread's stack: 4 MB of .bss (twice a test
 * thread's stack; .bss takes no room in the object file), as large as
 * Linux 5.10 lets an array's value be (KMALLOC_MAX_SIZE). Real schedulers
 * have far larger ones (scx_layered's is 165 MB; tests/real-objects.sh
 * opens it). The program marks both ends of it on the target thread's
 * getppid(2). */
#include "common.h"

#define BIG ((4 << 20) - 8)

const volatile __u32 target_tid;
__u8 table[BIG];
__u64 seen;

SEC("tp/syscalls/sys_enter_getppid")
int mark_ends(void *ctx)
{
	if (current_tid() != target_tid)
		return 0;
	table[0] = 1;
	table[BIG - 1] = 2;
	__sync_fetch_and_add(&seen, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
