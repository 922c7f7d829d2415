// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Probe programs that count the test thread's hits by the cookie they were
 * attached with: slot = the program's base + cookie (0..7), so one program
 * attached at several places, or with several cookies, tells them apart.
 * The USDT program also keeps its probe's first argument. */
#include <stdbool.h>
#include <asm/ptrace.h> /* struct pt_regs, for usdt.bpf.h */

enum base {
	KPROBE = 0,
	KRETPROBE = 8,
	KPROBE_MULTI = 16,
	KRETPROBE_MULTI = 24,
	UPROBE = 32,
	URETPROBE = 40,
	UPROBE_MULTI = 48,
	URETPROBE_MULTI = 56,
	USDT = 64,
	NR_SLOTS = 72
};

#include "target_hits.h"
#include <bpf/usdt.bpf.h>

/* The first argument of the last USDT probe fired. */
__u64 usdt_arg;

static __always_inline void count_cookie(__u32 base, __u64 cookie)
{
	if (is_target())
		count_hit(base + (cookie & 7));
}

SEC("kprobe")
int on_kprobe(struct pt_regs *ctx)
{
	count_cookie(KPROBE, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kretprobe")
int on_kretprobe(struct pt_regs *ctx)
{
	count_cookie(KRETPROBE, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kprobe.multi")
int on_kprobe_multi(struct pt_regs *ctx)
{
	count_cookie(KPROBE_MULTI, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kretprobe.multi")
int on_kretprobe_multi(struct pt_regs *ctx)
{
	count_cookie(KRETPROBE_MULTI, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uprobe")
int on_uprobe(struct pt_regs *ctx)
{
	count_cookie(UPROBE, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uretprobe")
int on_uretprobe(struct pt_regs *ctx)
{
	count_cookie(URETPROBE, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uprobe.multi")
int on_uprobe_multi(struct pt_regs *ctx)
{
	count_cookie(UPROBE_MULTI, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uretprobe.multi")
int on_uretprobe_multi(struct pt_regs *ctx)
{
	count_cookie(URETPROBE_MULTI, bpf_get_attach_cookie(ctx));
	return 0;
}

/* USDT probes of the target binary, a process of its own: counted in any
 * thread. */
SEC("usdt")
int on_usdt(struct pt_regs *ctx)
{
	long arg = 0;

	bpf_usdt_arg(ctx, 0, &arg);
	usdt_arg = arg;
	count_hit(USDT + (bpf_usdt_cookie(ctx) & 7));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
