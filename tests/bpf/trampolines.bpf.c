// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Trampoline programs whose targets the test chooses at run time, before
 * load: fentry and fexit count the test thread's calls by cookie, fmod_ret
 * makes the function return `fake_return` to the test thread, and an LSM
 * program counts the thread's file opens. A kernel locked down for
 * integrity refuses them all at load. */

enum base { FENTRY = 0, FEXIT = 8, FMOD_RET = 16, LSM = 24, NR_SLOTS = 32 };

#include "target_hits.h"

/* What the fmod_ret program makes its function return (0: the function
 * runs as usual). */
long fake_return;

static __always_inline void count_cookie(__u32 base, __u64 cookie)
{
	if (is_target())
		count_hit(base + (cookie & 7));
}

SEC("fentry")
int on_fentry(__u64 *ctx)
{
	count_cookie(FENTRY, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("fexit")
int on_fexit(__u64 *ctx)
{
	count_cookie(FEXIT, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("fmod_ret")
int on_fmod_ret(__u64 *ctx)
{
	if (!is_target())
		return 0;
	count_hit(FMOD_RET);
	return fake_return;
}

SEC("lsm")
int on_lsm(__u64 *ctx)
{
	count_cookie(LSM, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
