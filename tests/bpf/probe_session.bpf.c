// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A kprobe session program (Linux 6.10): one program at a function's entry
 * and return, counting the test thread's entries and returns apart. Apart
 * from probes.bpf.c so that older kernels refuse only it. */

#include <stdbool.h>

enum slot { ENTRY, RETURN, NR_SLOTS };

#include "target_hits.h"

extern bool bpf_session_is_return(void) __ksym;

SEC("kprobe.session")
int on_session(struct pt_regs *ctx)
{
	if (is_target())
		count_hit(bpf_session_is_return() ? RETURN : ENTRY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
