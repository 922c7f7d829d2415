// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs of a network namespace's hooks: an sk_lookup program that steers
 * connections to `steer_port` to the listener in `listeners`, and a flow
 * dissector that counts the packets it dissects. */
#include "common.h"

enum slot { STEERED, DISSECTED, NR_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} listeners SEC(".maps");

__u32 steer_port;

static __always_inline void count_hit(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&hits, &slot);

	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("sk_lookup")
int steer(struct bpf_sk_lookup *ctx)
{
	__u32 zero = 0;
	struct bpf_sock *sk;

	if (!steer_port || ctx->local_port != steer_port)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&listeners, &zero);
	if (!sk)
		return SK_PASS;
	if (!bpf_sk_assign(ctx, sk, 0))
		count_hit(STEERED);
	bpf_sk_release(sk);
	return SK_PASS;
}

SEC("flow_dissector")
int dissect(struct __sk_buff *skb)
{
	count_hit(DISSECTED);
	return BPF_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
