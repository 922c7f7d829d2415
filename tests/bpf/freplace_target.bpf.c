// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A program whose global function `decide` a freplace program replaces:
 * `entry` returns decide(its first argument). */
#include "common.h"

__attribute__((noinline)) int decide(int x)
{
	return x + 1;
}

SEC("raw_tp")
int entry(struct bpf_raw_tracepoint_args *ctx)
{
	return decide((int)ctx->args[0]);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
