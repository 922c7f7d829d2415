// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Cgroup local storage (BPF_MAP_TYPE_CGRP_STORAGE, Linux 6.2): the raw_tp
 * program finds the entry of the cgroup v2 of the task running it, creating
 * it if Rust stored none, and answers in it (`from_prog = from_user + 1`). */
#include "common.h"

#define BPF_MAP_TYPE_CGRP_STORAGE 32 /* not in Linux 6.1's headers */

struct owned {
	__u64 from_user;
	__u64 from_prog;
	__u64 runs;
};

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} cgroups SEC(".maps");

struct cgroup;
struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));
struct task_struct___cgroups {
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

SEC("raw_tp")
int answer_in_cgroup(void *ctx)
{
	struct task_struct___cgroups *task = (void *)bpf_get_current_task_btf();
	struct owned *v;

	v = bpf_cgrp_storage_get(&cgroups, task->cgroups->dfl_cgrp, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v)
		return 1;
	v->from_prog = v->from_user + 1;
	__sync_fetch_and_add(&v->runs, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
