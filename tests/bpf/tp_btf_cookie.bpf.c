// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A BTF tracepoint program whose tracepoint is chosen at run time, reading
 * its attach cookie (Linux 6.10 for BTF tracepoints), apart from
 * tracing.bpf.c so that older kernels refuse only it: it counts the test
 * thread's getppid(2) calls in slot cookie (0..7). */

enum base { TP_BTF = 0, NR_SLOTS = 8 };

#include "target_hits.h"

static __always_inline void count_cookie(__u32 base, __u64 cookie)
{
	if (is_target())
		count_hit(base + (cookie & 7));
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
