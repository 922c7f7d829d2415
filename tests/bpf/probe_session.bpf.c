// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A kprobe session program (Linux 6.10): one program at a function's entry
 * and return, counting the test thread's entries and returns apart. Apart
 * from probes.bpf.c so that older kernels refuse only it. */

#include <stdbool.h>

enum slot { ENTRY, RETURN, NR_SLOTS };

#include "target_hits.h"

/* The kfunc took no argument until the kernel's sessions grew (7.x takes
 * the context): both forms, and libbpf resolves the one the kernel has. */
extern bool bpf_session_is_return___noctx(void) __ksym __weak;
extern bool bpf_session_is_return___ctx(void *ctx) __ksym __weak;

static __always_inline bool is_return(void *ctx)
{
	if (bpf_ksym_exists(bpf_session_is_return___ctx))
		return bpf_session_is_return___ctx(ctx);
	return bpf_session_is_return___noctx();
}

SEC("kprobe.session")
int on_session(struct pt_regs *ctx)
{
	if (is_target())
		count_hit(is_return(ctx) ? RETURN : ENTRY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
