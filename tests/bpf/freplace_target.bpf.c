// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A program whose global function `decide` a freplace program replaces:
 * `entry`, a socket filter (whose return value the verifier leaves free),
 * returns decide(the packet's length). */
#include "common.h"

__attribute__((noinline)) int decide(int x)
{
	return x + 1;
}

SEC("socket")
int entry(struct __sk_buff *skb)
{
	return decide(skb->len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
