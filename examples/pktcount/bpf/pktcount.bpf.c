// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pktcount: packets and bytes an interface receives, by IP protocol, in an
 * array indexed by the protocol number (255 for frames that are not IP).
 * Attached on ingress, with tcx where the kernel has it (6.6) and as a
 * classic tc filter elsewhere; every packet goes on unchanged. Assumes an
 * Ethernet header, as Ethernet devices and loopback have. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
/* The offsets of the protocol fields in IPv4 and IPv6 headers. */
#define IPV4_PROTOCOL 9
#define IPV6_NEXT_HEADER 6
#define NOT_IP 255
/* Let the next program (or the stack) have the packet: TCX_NEXT for tcx,
 * TC_ACT_UNSPEC (the next filter) for classic tc. */
#define NEXT_PROGRAM -1

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counter);
} counts SEC(".maps");

SEC("tc")
int count_packets(struct __sk_buff *skb)
{
	__u32 key = NOT_IP;
	__u8 protocol;
	struct counter *c;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (!bpf_skb_load_bytes(skb, ETH_HLEN + IPV4_PROTOCOL, &protocol, 1))
			key = protocol;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (!bpf_skb_load_bytes(skb, ETH_HLEN + IPV6_NEXT_HEADER, &protocol, 1))
			key = protocol;
	}
	c = bpf_map_lookup_elem(&counts, &key);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, skb->len);
	}
	return NEXT_PROGRAM;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
