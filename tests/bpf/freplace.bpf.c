// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Replaces `decide` of freplace_target.bpf.c (its target program is chosen
 * at run time, before load): x * 100 instead of x + 1. */
#include "common.h"

SEC("freplace")
int new_decide(int x)
{
	return x * 100;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
