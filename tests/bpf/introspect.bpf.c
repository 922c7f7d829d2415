// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs for tests/tests/introspection.rs: test runs with packets and
 * contexts in and out, run statistics, and pinning.
 *
 * - `swap_macs` (XDP) swaps a frame's Ethernet addresses and sends it
 *   back (XDP_TX).
 * - `mark_skb` (tc) adds one to the packet's mark, read back through the
 *   output context.
 * - `count_pass` (XDP) counts its runs and passes the frame on, for live
 *   frames.
 * - `tick` (raw_tp) adds to a counter. */
#include "common.h"
#include <linux/if_ether.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 passes;
__u64 ticks;

SEC("xdp")
int swap_macs(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

SEC("tc")
int mark_skb(struct __sk_buff *skb)
{
	skb->mark += 1;
	return 0;
}

SEC("xdp")
int count_pass(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&passes, 1);
	return XDP_PASS;
}

SEC("raw_tp")
int tick(void *ctx)
{
	__sync_fetch_and_add(&ticks, 1);
	return 0;
}
