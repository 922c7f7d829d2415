// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs that attach through BPF trampolines: fentry, fexit and lsm. Each
 * counts, in its own slot of `hits`, what the thread in `target` does. */

enum slot { FENTRY, FEXIT, LSM, NR_SLOTS };

#include "target_hits.h"

static __always_inline void hit_if_target(__u32 slot)
{
	if (is_target())
		count_hit(slot);
}

SEC("fentry/__do_sys_getppid")
int BPF_PROG(on_fentry)
{
	hit_if_target(FENTRY);
	return 0;
}

SEC("fexit/__do_sys_getppid")
int BPF_PROG(on_fexit, long ret)
{
	hit_if_target(FEXIT);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(on_file_open, void *file)
{
	hit_if_target(LSM);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
