// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* C `bool` globals, which the skeleton gives as Rust `bool`s: a constant the
 * verifier sees, a flag user space flips, flags the program sets, and a
 * byte the program stores 2 in (any byte but 0 reads as true). Each
 * getppid(2) call of the target thread copies what it sees. */
#include "common.h"
#include <stdbool.h>

const volatile bool verbose;
const volatile __u32 target_tid;

bool enabled = true;
bool seen_verbose;
bool seen_enabled;
bool flags[3];
bool odd;
__u64 calls;

SEC("tp/syscalls/sys_enter_getppid")
int copy_bools(void *ctx)
{
	if (current_tid() != target_tid)
		return 0;
	__u64 n;

	/* Only this thread counts: reading back after the add is its count. */
	__sync_fetch_and_add(&calls, 1);
	n = calls;

	seen_verbose = verbose;
	seen_enabled = enabled;
	/* Call n sets flag n % 3. */
	switch (n % 3) {
	case 0:
		flags[0] = true;
		break;
	case 1:
		flags[1] = true;
		break;
	default:
		flags[2] = true;
	}
	/* A byte C code may well leave in a bool: neither 0 nor 1. */
	*(volatile __u8 *)&odd = 2;
	return 0;
}

/* Not loaded unless asked (a `?` section): libbpf names its section
 * without the `?`. */
SEC("?tp/syscalls/sys_enter_getppid")
int copy_bools_later(void *ctx)
{
	return copy_bools(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
