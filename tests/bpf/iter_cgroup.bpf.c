// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A cgroup iterator (Linux 6.1), apart from iters.bpf.c so that older
 * kernels refuse only it: one line per cgroup walked, its id. */
#include "common.h"

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct bpf_iter__cgroup {
	struct bpf_iter_meta *meta;
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgroup = ctx->cgroup;

	if (!cgroup)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", cgroup->kn->id);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
