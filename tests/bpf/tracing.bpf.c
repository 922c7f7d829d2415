// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A tracepoint program that counts the test thread's calls by the cookie
 * it was attached with (Linux 5.15): slot = cookie (0..7). */

enum base { TP = 0, NR_SLOTS = 8 };

#include "target_hits.h"

static __always_inline void count_cookie(__u32 base, __u64 cookie)
{
	if (is_target())
		count_hit(base + (cookie & 7));
}

SEC("tracepoint")
int on_tp(void *ctx)
{
	count_cookie(TP, bpf_get_attach_cookie(ctx));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
