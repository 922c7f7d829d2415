// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs for the soundness tests (tests/tests/soundness.rs).
 *
 * - `.data.data` is a custom section whose name ends like `.data`, and it
 *   comes first in the object: a lookup of `.data` by suffix finds it.
 *   `read_sections` copies both sections' variables into `.bss`.
 * - `on_usdt` and `on_uprobe` count hits, for threads attaching and
 *   detaching links of one object at the same time.
 * - `bump` adds to a `.bss` counter, for threads reading it through the
 *   live view while the program writes it. */
#define NR_SLOTS 2
#include <stdbool.h>
#include <asm/ptrace.h> /* struct pt_regs, for usdt.bpf.h */
#include "target_hits.h"
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

int in_custom SEC(".data.data") = 22;
int in_data = 11;

int seen_data;
int seen_custom;
__u64 bumps;

SEC("raw_tp")
int read_sections(void *ctx)
{
	seen_data = in_data;
	seen_custom = in_custom;
	return 0;
}

SEC("usdt")
int on_usdt(struct pt_regs *ctx)
{
	count_hit(0);
	return 0;
}

SEC("uprobe")
int on_uprobe(struct pt_regs *ctx)
{
	count_hit(1);
	return 0;
}

SEC("raw_tp")
int bump(void *ctx)
{
	__sync_fetch_and_add(&bumps, 1);
	return 0;
}
