// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A uprobe that calls a helper that may sleep: the verifier takes it only
 * with BPF_F_SLEEPABLE, which the test sets before load. */
#include <asm/ptrace.h> /* struct pt_regs */
#include "common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 copied;

SEC("uprobe")
int sleepy(struct pt_regs *ctx)
{
	__u64 value = 0;

	bpf_copy_from_user(&value, sizeof(value), (void *)PT_REGS_PARM1(ctx));
	copied = value;
	return 0;
}
