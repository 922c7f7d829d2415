// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs on the network hooks the tests attach with options: XDP in each
 * mode, tcx programs in a chosen order, legacy tc filters by priority, a
 * netkit program, and a socket filter. Each counts the test's frames
 * (EtherType 0x88b5, sent by tests/src/net.rs) or datagrams in its slot. */

#include "common.h"

#define TEST_PROTO 0x88b5
#define TC_ACT_UNSPEC -1
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TCX_NEXT -1
#define NETKIT_NEXT -1

enum slot {
	XDP,
	TCX_A,
	TCX_B,
	TCX_DROP,
	TC_DROPPED,
	TC_SEEN,
	TC_OTHER,
	TC_EGRESS,
	NETKIT,
	FILTER_SEEN,
	FILTER_DROPPED,
	NR_SLOTS
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void count_hit(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&hits, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}

/* The first payload byte of a test frame, or -1 for any other packet. */
static __always_inline int test_frame(void *data, void *end)
{
	__u8 *frame = data;

	if ((void *)(frame + 15) > end)
		return -1;
	if (frame[12] != (TEST_PROTO >> 8) || frame[13] != (TEST_PROTO & 0xff))
		return -1;
	return frame[14];
}

static __always_inline int skb_test_frame(struct __sk_buff *skb)
{
	return test_frame((void *)(long)skb->data, (void *)(long)skb->data_end);
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	if (test_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end) >= 0)
		count_hit(XDP);
	return XDP_PASS;
}

SEC("tcx/ingress")
int tcx_a(struct __sk_buff *skb)
{
	if (skb_test_frame(skb) >= 0)
		count_hit(TCX_A);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tcx_b(struct __sk_buff *skb)
{
	if (skb_test_frame(skb) >= 0)
		count_hit(TCX_B);
	return TCX_NEXT;
}

/* Drops the test's frames: the programs after it never see them. */
SEC("tcx/ingress")
int tcx_drop(struct __sk_buff *skb)
{
	if (skb_test_frame(skb) < 0)
		return TCX_NEXT;
	count_hit(TCX_DROP);
	return TC_ACT_SHOT;
}

/* Drops frames whose payload starts with 'd'; lets the next filter decide
 * on the others. */
SEC("tc")
int tc_drop_d(struct __sk_buff *skb)
{
	if (skb_test_frame(skb) != 'd')
		return TC_ACT_UNSPEC;
	count_hit(TC_DROPPED);
	return TC_ACT_SHOT;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	if (skb_test_frame(skb) >= 0)
		count_hit(TC_SEEN);
	return TC_ACT_OK;
}

SEC("tc")
int tc_count_other(struct __sk_buff *skb)
{
	if (skb_test_frame(skb) >= 0)
		count_hit(TC_OTHER);
	return TC_ACT_OK;
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	if (skb_test_frame(skb) >= 0)
		count_hit(TC_EGRESS);
	return TC_ACT_OK;
}

SEC("netkit/primary")
int netkit_count(struct __sk_buff *skb)
{
	count_hit(NETKIT);
	return NETKIT_NEXT;
}

/* A socket filter on a UDP socket: drops datagrams whose payload starts
 * with 'x', keeps the others whole. */
SEC("socket")
int drop_x(struct __sk_buff *skb)
{
	__u8 ihl, first;

	if (bpf_skb_load_bytes_relative(skb, 0, &ihl, 1, BPF_HDR_START_NET))
		return skb->len;
	if (bpf_skb_load_bytes_relative(skb, (ihl & 0xf) * 4 + 8, &first, 1, BPF_HDR_START_NET))
		return skb->len;
	count_hit(FILTER_SEEN);
	if (first != 'x')
		return skb->len;
	count_hit(FILTER_DROPPED);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
