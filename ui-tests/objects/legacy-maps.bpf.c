// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An object written for iproute2 before libbpf 1.0: its maps are
 * `struct bpf_elf_map`s in a section named `maps`, not BTF-defined maps in
 * `.maps`. libbpf 1.0 and later refuse to open it. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* iproute2's definition (include/bpf_elf.h). */
struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
};

struct bpf_elf_map SEC("maps") packets = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
};

struct bpf_elf_map SEC("maps") drops = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
};

SEC("classifier")
int count_packets(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&packets, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	count = bpf_map_lookup_elem(&drops, &key);
	if (count && skb->len == 0)
		__sync_fetch_and_add(count, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
