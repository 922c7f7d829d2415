// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A tracepoint and a BTF tracepoint program that count the test thread's
 * getppid(2) calls by the cookie they were attached with: slot = base +
 * cookie (0..7). The tp_btf program's tracepoint is chosen at run time. */

enum base { TP = 0, TP_BTF = 8, NR_SLOTS = 16 };

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

/* sys_enter's arguments: the registers, the syscall number. */
SEC("tp_btf")
int on_tp_btf(__u64 *ctx)
{
	if (ctx[1] == NR_GETPPID)
		count_cookie(TP_BTF, bpf_get_attach_cookie(ctx));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
