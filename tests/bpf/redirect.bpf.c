// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP programs that redirect the test's frames (EtherType TEST_PROTO)
 * through each kind of redirect map, and the programs at the other end:
 * `count_arrivals` on the interface frames should reach, `on_egress` on a
 * device map entry, `on_cpu` on a CPU map entry. Other frames pass. */
#include "common.h"
#include <bpf/bpf_endian.h>

#define TEST_PROTO 0x88b5 /* IEEE local experimental */
#define DEV_KEY 1234

struct ethhdr {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} devs_with_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} dev_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* Frames of the test each program saw. */
__u64 redirected;
__u64 arrived;
__u64 egress_runs;
__u64 cpu_runs;
/* Where `on_egress` and `on_cpu` ran. */
__u32 egress_ifindex;
__u32 cpu_seen;
/* The CPU `to_cpu` sends frames to. */
__u32 target_cpu;
/* What `to_xsk` found in the XSK map for its queue: its queue id + 1. */
__u32 xsk_found;

static __always_inline int is_test_frame(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	return (void *)(eth + 1) <= end && eth->proto == bpf_htons(TEST_PROTO);
}

#define REDIRECT(name, map, key)                                  \
	SEC("xdp") int name(struct xdp_md *ctx)                   \
	{                                                         \
		if (!is_test_frame(ctx))                          \
			return XDP_PASS;                          \
		__sync_fetch_and_add(&redirected, 1);             \
		return bpf_redirect_map(&map, key, XDP_ABORTED);  \
	}

REDIRECT(to_dev, devs, 0)
REDIRECT(to_dev_with_prog, devs_with_progs, 0)
REDIRECT(to_dev_hash, dev_hash, DEV_KEY)
REDIRECT(to_cpu, cpus, target_cpu)

SEC("xdp")
int to_xsk(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index;
	struct bpf_xdp_sock *xsk;

	if (!is_test_frame(ctx))
		return XDP_PASS;
	xsk = bpf_map_lookup_elem(&xsks, &queue);
	if (xsk)
		xsk_found = xsk->queue_id + 1;
	__sync_fetch_and_add(&redirected, 1);
	return bpf_redirect_map(&xsks, queue, XDP_ABORTED);
}

SEC("xdp")
int count_arrivals(struct xdp_md *ctx)
{
	if (!is_test_frame(ctx))
		return XDP_PASS;
	__sync_fetch_and_add(&arrived, 1);
	return XDP_DROP;
}

SEC("xdp/devmap")
int on_egress(struct xdp_md *ctx)
{
	if (is_test_frame(ctx)) {
		__sync_fetch_and_add(&egress_runs, 1);
		egress_ifindex = ctx->egress_ifindex;
	}
	return XDP_PASS;
}

SEC("xdp/cpumap")
int on_cpu(struct xdp_md *ctx)
{
	if (!is_test_frame(ctx))
		return XDP_PASS;
	__sync_fetch_and_add(&cpu_runs, 1);
	cpu_seen = bpf_get_smp_processor_id();
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
