// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Task local storage (Linux 5.11). The program reads what Rust stored for
 * the task at hand (`from_user`) and answers in the same entry
 * (`from_prog = from_user + 1`); for the process `target_tgid` it creates
 * the entry when Rust stored none, so that Rust then reads what the program
 * wrote. */
#include "common.h"

#define ANSWER(v) ((v)->from_prog = (v)->from_user + 1)

struct owned {
	__u64 from_user;
	__u64 from_prog;
	__u64 runs;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} tasks SEC(".maps");

/* The process whose entry the write tracepoint program creates. */
__u32 target_tgid;

SEC("tp/syscalls/sys_enter_write")
int task_write(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct owned *v;

	if (!target_tgid || tgid != target_tgid)
		return 0;
	v = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (v) {
		ANSWER(v);
		__sync_fetch_and_add(&v->runs, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
