// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Inode local storage, which only LSM programs reach: on each open by the
 * process `target_tgid`, the program answers in the entry Rust stored for
 * the opened file's inode (`from_prog = from_user + 1`). */
#include "common.h"

struct owned {
	__u64 from_user;
	__u64 from_prog;
};

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} inodes SEC(".maps");

__u32 target_tgid;

struct inode;
struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

SEC("lsm/file_open")
int BPF_PROG(file_open, struct file *file)
{
	struct owned *v;

	if (!target_tgid || bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	v = bpf_inode_storage_get(&inodes, file->f_inode, 0, 0);
	if (v)
		v->from_prog = v->from_user + 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
