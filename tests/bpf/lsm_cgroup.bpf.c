// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An LSM program of a cgroup (Linux 6.0): attached to the test process's
 * cgroup, it counts the test thread's socket binds and allows them. */

#define NR_SLOTS 1

#include "target_hits.h"

SEC("lsm_cgroup/socket_bind")
int on_bind(__u64 *ctx)
{
	if (is_target())
		count_hit(0);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
