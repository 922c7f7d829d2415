// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bpf_printk on a syscall of one process, with a tag set before load so
 * that the test finds its own lines among everyone's. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tid = 0;
const volatile __u32 tag = 0;
__u32 count = 0;

SEC("tp/syscalls/sys_enter_getpriority")
int print_getpriority(void *ctx)
{
	if ((__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	count++;
	bpf_printk("printk test tag=%u n=%u", tag, count);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
