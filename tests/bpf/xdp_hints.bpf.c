// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An XDP program that reads the driver's receive hash of each test frame
 * (EtherType 0x88b5, sent by tests/src/net.rs) with the receive-metadata
 * kfunc, and a tc program that reads the hash the frame's socket buffer
 * carries afterwards. Loaded bound to a veth device (tests/tests/
 * xdp_hints.rs), the kfunc is veth's, which hashes the socket buffer; loaded
 * unbound, it is the generic one, which answers -EOPNOTSUPP. The kfunc and
 * its three-argument form are Linux 6.3's: older kernels refuse the load. */

#include "common.h"

#define TEST_PROTO 0x88b5
#define TC_ACT_OK 0

/* The kernel's enum, by name: libbpf checks the kfunc's prototype against
 * the kernel's, and an integer is not an enum there. */
enum xdp_rss_hash_type {
	XDP_RSS_TYPE_NONE = 0,
};

extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym;

/* What the last test frame showed each program. */
struct seen {
	__u32 frames;
	__s32 ret; /* the kfunc's return value (XDP only) */
	__u32 hash;
	__u32 rss_type; /* (XDP only) */
};

struct seen xdp_seen;
struct seen tc_seen;

static __always_inline int is_test_frame(void *data, void *end)
{
	__u8 *frame = data;

	if ((void *)(frame + 14) > end)
		return 0;
	return frame[12] == (TEST_PROTO >> 8) && frame[13] == (TEST_PROTO & 0xff);
}

SEC("xdp")
int xdp_hash(struct xdp_md *ctx)
{
	enum xdp_rss_hash_type type = XDP_RSS_TYPE_NONE;
	__u32 hash = 0;
	int ret;

	if (!is_test_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	ret = bpf_xdp_metadata_rx_hash(ctx, &hash, &type);
	xdp_seen.ret = ret;
	xdp_seen.hash = hash;
	xdp_seen.rss_type = type;
	__sync_fetch_and_add(&xdp_seen.frames, 1);
	return XDP_PASS;
}

SEC("tc")
int tc_hash(struct __sk_buff *skb)
{
	if (!is_test_frame((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	tc_seen.hash = skb->hash;
	__sync_fetch_and_add(&tc_seen.frames, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
