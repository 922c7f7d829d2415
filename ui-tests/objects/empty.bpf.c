// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An eBPF object with neither programs nor maps: only a global variable and
 * a function in .text (a subprogram, which is not a program). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 0;

__attribute__((noinline)) int helper(int x)
{
	return x + counter;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
