// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A program for each cgroup hook, attached to the test process's cgroup:
 * each counts in its own slot what the test thread does (the socket
 * address, socket, sysctl, sockopt and device hooks run in the calling
 * thread) or what goes through the test's ports (the packet and sockops
 * hooks), and allows it. Two sysctl programs count every run, for the
 * attach-mode tests that run them in cgroups of their own. */

enum slot {
	INGRESS,
	EGRESS,
	SOCK_CREATE,
	SOCK_RELEASE,
	POST_BIND4,
	POST_BIND6,
	BIND4,
	BIND6,
	CONNECT4,
	CONNECT6,
	SENDMSG4,
	SENDMSG6,
	RECVMSG4,
	RECVMSG6,
	GETPEERNAME4,
	GETPEERNAME6,
	GETSOCKNAME4,
	GETSOCKNAME6,
	SOCKOPS,
	SYSCTL,
	GETSOCKOPT,
	SETSOCKOPT,
	DEVICE,
	NR_SLOTS
};

#include "target_hits.h"
#include <bpf/bpf_endian.h>

/* The test's ports: packets to `rx_port` (ingress) and from `tx_port`
 * (egress), TCP connections to `tcp_port` (sockops). */
__u32 rx_port, tx_port, tcp_port;

#define COUNT_TARGET(slot)		\
	do {				\
		if (is_target())	\
			count_hit(slot);\
		return 1;		\
	} while (0)

SEC("cgroup_skb/ingress")
int on_ingress(struct __sk_buff *skb)
{
	if (rx_port && skb->local_port == rx_port)
		count_hit(INGRESS);
	return 1;
}

SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb)
{
	if (tx_port && skb->local_port == tx_port)
		count_hit(EGRESS);
	return 1;
}

SEC("cgroup/sock_create")
int on_sock_create(struct bpf_sock *sk) { COUNT_TARGET(SOCK_CREATE); }

SEC("cgroup/sock_release")
int on_sock_release(struct bpf_sock *sk) { COUNT_TARGET(SOCK_RELEASE); }

SEC("cgroup/post_bind4")
int on_post_bind4(struct bpf_sock *sk) { COUNT_TARGET(POST_BIND4); }

SEC("cgroup/post_bind6")
int on_post_bind6(struct bpf_sock *sk) { COUNT_TARGET(POST_BIND6); }

SEC("cgroup/bind4")
int on_bind4(struct bpf_sock_addr *ctx) { COUNT_TARGET(BIND4); }

SEC("cgroup/bind6")
int on_bind6(struct bpf_sock_addr *ctx) { COUNT_TARGET(BIND6); }

SEC("cgroup/connect4")
int on_connect4(struct bpf_sock_addr *ctx) { COUNT_TARGET(CONNECT4); }

SEC("cgroup/connect6")
int on_connect6(struct bpf_sock_addr *ctx) { COUNT_TARGET(CONNECT6); }

SEC("cgroup/sendmsg4")
int on_sendmsg4(struct bpf_sock_addr *ctx) { COUNT_TARGET(SENDMSG4); }

SEC("cgroup/sendmsg6")
int on_sendmsg6(struct bpf_sock_addr *ctx) { COUNT_TARGET(SENDMSG6); }

SEC("cgroup/recvmsg4")
int on_recvmsg4(struct bpf_sock_addr *ctx) { COUNT_TARGET(RECVMSG4); }

SEC("cgroup/recvmsg6")
int on_recvmsg6(struct bpf_sock_addr *ctx) { COUNT_TARGET(RECVMSG6); }

SEC("cgroup/getpeername4")
int on_getpeername4(struct bpf_sock_addr *ctx) { COUNT_TARGET(GETPEERNAME4); }

SEC("cgroup/getpeername6")
int on_getpeername6(struct bpf_sock_addr *ctx) { COUNT_TARGET(GETPEERNAME6); }

SEC("cgroup/getsockname4")
int on_getsockname4(struct bpf_sock_addr *ctx) { COUNT_TARGET(GETSOCKNAME4); }

SEC("cgroup/getsockname6")
int on_getsockname6(struct bpf_sock_addr *ctx) { COUNT_TARGET(GETSOCKNAME6); }

SEC("sockops")
int on_sockops(struct bpf_sock_ops *ops)
{
	/* The client's side of a connection to the test's port. */
	if (ops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && tcp_port &&
	    bpf_ntohl(ops->remote_port) == tcp_port)
		count_hit(SOCKOPS);
	return 1;
}

SEC("cgroup/sysctl")
int on_sysctl(struct bpf_sysctl *ctx) { COUNT_TARGET(SYSCTL); }

SEC("cgroup/getsockopt")
int on_getsockopt(struct bpf_sockopt *ctx)
{
	if (is_target())
		count_hit(GETSOCKOPT);
	return 1;
}

SEC("cgroup/setsockopt")
int on_setsockopt(struct bpf_sockopt *ctx)
{
	if (is_target())
		count_hit(SETSOCKOPT);
	return 1;
}

SEC("cgroup/dev")
int on_device(struct bpf_cgroup_dev_ctx *ctx)
{
	/* Opening /dev/null (char device 1:3). */
	if (ctx->major == 1 && ctx->minor == 3 && is_target())
		count_hit(DEVICE);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
