// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An object with many map kinds and program sections, a map named `type` and
 * a program named `loop` (both Rust keywords). The attachable programs each
 * count, in their own slot of `hits`, what the thread whose id the test
 * writes into `target` does; the others load but need a hook from the user.
 * (fentry, fexit and lsm are in trampoline.bpf.c: a kernel locked down for
 * integrity refuses them, and one refusal would fail the whole object.) */

enum slot { TP, RAW_TP, TP_BTF, UPROBE, ITER_SELF, NR_SLOTS };
#include "target_hits.h"

struct flow_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} type SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u32);
} self SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} percpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lru_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lru_percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct flow_key);
	__type(value, __u32);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16);
	__type(value, __u64);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 16);
	__type(value, __u64);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_array);
} array_of_maps SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_array);
} hash_of_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} sk_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} cpumap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} sockmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* Globals live in data sections, which are not map fields. */
__u64 total_calls = 0;
__u32 data_marker = 7;
const volatile __u32 rodata_marker = 9;

static __always_inline void hit(__u32 slot)
{
	count_hit(slot);
	__sync_fetch_and_add(&total_calls, 1);
}

SEC("tp/syscalls/sys_enter_getppid")
int on_tp(void *ctx)
{
	if (is_target())
		hit(TP);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID && is_target())
		hit(RAW_TP);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_tp_btf, struct pt_regs *regs, long id)
{
	if (id == NR_GETPPID && is_target())
		hit(TP_BTF);
	return 0;
}

/* The test binary exports this function for the probe. */
SEC("uprobe//proc/self/exe:everything_uprobe_target")
int on_uprobe_target(struct pt_regs *ctx)
{
	if (is_target())
		hit(UPROBE);
	return 0;
}

struct bpf_iter_meta;
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

/* Runs for every task when the iterator is read: notes the target thread. */
SEC("iter/task")
int loop(struct bpf_iter__task *ctx)
{
	__u32 zero = 0, *tid = bpf_map_lookup_elem(&target, &zero);
	struct task_struct *task = ctx->task;

	if (task && tid && *tid && task->pid == *tid)
		hit(ITER_SELF);
	return 0;
}

/* Programs without a hook of their own: loaded, not attached. */

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK */
}

SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("perf_event")
int on_perf_event(void *ctx)
{
	return 0;
}

SEC("uprobe")
int on_uprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("cgroup_skb/ingress")
int cgroup_ingress(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
