// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The cgroup hooks of Unix socket addresses (Linux 6.7), apart from the
 * other cgroup hooks so that older kernels refuse only these: each counts
 * what the test thread does in its slot, and allows it. */

enum slot { CONNECT, SENDMSG, RECVMSG, GETPEERNAME, GETSOCKNAME, NR_SLOTS };

#include "target_hits.h"

SEC("cgroup/connect_unix")
int on_connect_unix(struct bpf_sock_addr *ctx)
{
	if (is_target())
		count_hit(CONNECT);
	return 1;
}

SEC("cgroup/sendmsg_unix")
int on_sendmsg_unix(struct bpf_sock_addr *ctx)
{
	if (is_target())
		count_hit(SENDMSG);
	return 1;
}

SEC("cgroup/recvmsg_unix")
int on_recvmsg_unix(struct bpf_sock_addr *ctx)
{
	if (is_target())
		count_hit(RECVMSG);
	return 1;
}

SEC("cgroup/getpeername_unix")
int on_getpeername_unix(struct bpf_sock_addr *ctx)
{
	if (is_target())
		count_hit(GETPEERNAME);
	return 1;
}

SEC("cgroup/getsockname_unix")
int on_getsockname_unix(struct bpf_sock_addr *ctx)
{
	if (is_target())
		count_hit(GETSOCKNAME);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
