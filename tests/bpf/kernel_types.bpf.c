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
	/* task_copy is this object's memory, laid out as the object's BTF
	 * says on every kernel, and so is the Rust view of it. vmlinux.h marks
	 * every struct preserve_access_index, which makes `task_copy.pid = 1`
	 * a CO-RE access that libbpf moves to the running kernel's offset of
	 * pid: another byte of this copy on another kernel. CO-RE is for the
	 * kernel's memory; the object's own is written at its own offsets. */
	*(int *)((char *)&task_copy + __builtin_offsetof(struct task_struct, pid)) = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
