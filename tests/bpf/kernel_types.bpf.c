// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The running kernel's own large structs as globals and map types, to show
 * the generated Rust layouts hold for real-world BTF: bitfields, unions,
 * anonymous members, flexible arrays and deep nesting by the thousand.
 * Built against a vmlinux.h that build.sh generates from the kernel's BTF
 * (not committed). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct task_struct task_copy;
struct sk_buff skb_copy;
struct inode inode_copy;
struct file file_copy;
struct net_device netdev_copy;
struct bpf_prog_aux aux_copy;
struct super_block sb_copy;
struct page page_copy;
__u64 switches;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, struct in6_addr);
	__type(value, struct mm_struct);
} mms SEC(".maps");

SEC("tp_btf/sched_switch")
int on_switch(void *ctx)
{
	__sync_fetch_and_add(&switches, 1);
	task_copy.pid = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
