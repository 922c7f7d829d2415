// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A raw tracepoint program that reads its attach cookie (Linux 6.10),
 * apart from tracing.bpf.c so that older kernels refuse only it: it counts
 * the test thread's getppid(2) calls in slot cookie (0..7). */

#define NR_SLOTS 8

#include "target_hits.h"

SEC("raw_tp")
int on_raw(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID && is_target())
		count_hit(bpf_get_attach_cookie(ctx) & 7);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
