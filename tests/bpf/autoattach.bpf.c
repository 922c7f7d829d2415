// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What objs.attach() attaches by itself and what it leaves: a tracepoint, a
 * task iterator, an sk_lookup program (on the attaching thread's network
 * namespace) and a flow dissector attach; a map iterator (it needs its
 * map), an XDP program (an interface) and a cgroup program (a cgroup) are
 * left for the user. */
#include "common.h"

enum slot { GETPPID, LOOKUPS, UNUSED, NR_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

__u32 target_tid;
__u32 lookup_port;

static __always_inline void count_hit(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&hits, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

struct bpf_map;

struct bpf_iter__bpf_map_elem {
	struct bpf_iter_meta *meta;
	void *key;
} __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if (target_tid && (__u32)bpf_get_current_pid_tgid() == target_tid)
		count_hit(GETPPID);
	return 0;
}

/* The test's own thread, once. */
SEC("iter/task")
int own_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task && task->pid == target_tid)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", task->pid);
	return 0;
}

SEC("sk_lookup")
int on_lookup(struct bpf_sk_lookup *ctx)
{
	if (lookup_port && ctx->local_port == lookup_port)
		count_hit(LOOKUPS);
	return SK_PASS;
}

SEC("flow_dissector")
int on_dissect(struct __sk_buff *skb)
{
	return BPF_OK;
}

SEC("iter/bpf_map_elem")
int each_elem(struct bpf_iter__bpf_map_elem *ctx)
{
	count_hit(UNUSED);
	return 0;
}

SEC("xdp")
int on_xdp(struct xdp_md *ctx)
{
	count_hit(UNUSED);
	return XDP_PASS;
}

SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb)
{
	count_hit(UNUSED);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
