// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs for the link operations: two XDP programs a link switches
 * between, a tracepoint that attaches by itself (pinned by a child process,
 * counted by its parent), cgroup and raw tracepoint programs whose links
 * are detached and described, and a USDT program (a link without a
 * descriptor of its own). Each counts into its own slot of `hits`. */

enum slot { FIRST, SECOND, GETPPID, EGRESS, RAW, USDT, NR_SLOTS };

#include <stdbool.h>
#include <asm/ptrace.h> /* struct pt_regs, for usdt.bpf.h */
#include "target_hits.h"
#include <bpf/usdt.bpf.h>

/* Only the test's UDP datagrams (IPv4, protocol 17) count, not the other
 * packets an interface may carry. */
static __always_inline int is_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *ip = data + 14;

	if (ip + 20 > (__u8 *)end)
		return 0;
	return ((__u8 *)data)[12] == 0x08 && ((__u8 *)data)[13] == 0 && ip[9] == 17;
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	if (is_udp(ctx))
		count_hit(FIRST);
	return XDP_PASS;
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
	if (is_udp(ctx))
		count_hit(SECOND);
	return XDP_PASS;
}

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if (is_target())
		count_hit(GETPPID);
	return 0;
}

/* The test's sending socket's port: not every kernel lets a cgroup packet
 * program ask for the sending thread (6.1 refuses bpf_get_current_pid_tgid
 * there). */
__u32 egress_port;

SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb)
{
	if (egress_port && skb->local_port == egress_port)
		count_hit(EGRESS);
	return 1;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID && is_target())
		count_hit(RAW);
	return 0;
}

SEC("usdt")
int on_usdt(struct pt_regs *ctx)
{
	count_hit(USDT);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
