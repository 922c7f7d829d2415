// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Maps of sockets. sk_msg programs redirect what a socket of their map
 * sends, sk_skb programs what it receives, into the receive queue of the
 * socket in slot (or under key) `redirect_to`; a sockops program puts each
 * connection made to port `ops_port` into `ops_hash` under its local port;
 * an sk_reuseport program picks the socket in slot `pick` of `reuse`. */
#include "common.h"
#include <bpf/bpf_endian.h>

#define SLOTS 4

struct port_key {
	__u32 port;
};

#define SOCK_MAP(kind, name)                   \
	struct {                               \
		__uint(type, kind);            \
		__uint(max_entries, SLOTS);    \
		__type(key, __u32);            \
		__type(value, __u64);          \
	} name SEC(".maps")

#define SOCK_HASH(name)                            \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_SOCKHASH); \
		__uint(max_entries, SLOTS);        \
		__type(key, struct port_key);      \
		__type(value, __u64);              \
	} name SEC(".maps")

SOCK_MAP(BPF_MAP_TYPE_SOCKMAP, msg_map);
SOCK_MAP(BPF_MAP_TYPE_SOCKMAP, stream_map);
SOCK_MAP(BPF_MAP_TYPE_SOCKMAP, verdict_map);
SOCK_MAP(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, reuse);
SOCK_HASH(msg_hash);
SOCK_HASH(ops_hash);

/* A sock map of 4-byte values, which the kernel does not read back. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} narrow SEC(".maps");

__u32 redirect_to;
__u32 ops_port;
__u32 pick;
/* Messages and packets the programs saw. */
__u64 msgs;
__u64 skbs;

SEC("sk_msg")
int msg_to_slot(struct sk_msg_md *msg)
{
	__sync_fetch_and_add(&msgs, 1);
	return bpf_msg_redirect_map(msg, &msg_map, redirect_to, BPF_F_INGRESS);
}

SEC("sk_msg")
int msg_to_key(struct sk_msg_md *msg)
{
	struct port_key key = { .port = redirect_to };

	__sync_fetch_and_add(&msgs, 1);
	return bpf_msg_redirect_hash(msg, &msg_hash, &key, BPF_F_INGRESS);
}

SEC("sk_skb/stream_parser")
int whole_skb(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("sk_skb/stream_verdict")
int stream_to_slot(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&skbs, 1);
	return bpf_sk_redirect_map(skb, &stream_map, redirect_to, BPF_F_INGRESS);
}

SEC("sk_skb/verdict")
int skb_to_slot(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&skbs, 1);
	return bpf_sk_redirect_map(skb, &verdict_map, redirect_to, BPF_F_INGRESS);
}

SEC("sockops")
int add_connection(struct bpf_sock_ops *ops)
{
	struct port_key key = { .port = ops->local_port };

	if (ops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && ops_port &&
	    bpf_ntohl(ops->remote_port) == ops_port)
		bpf_sock_hash_update(ops, &ops_hash, &key, BPF_ANY);
	return 1;
}

SEC("sk_reuseport")
int pick_socket(struct sk_reuseport_md *md)
{
	__u32 key = pick;

	return bpf_sk_select_reuseport(md, &reuse, &key, 0) ? SK_DROP : SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
