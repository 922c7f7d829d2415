// SPDX-License-Identifier: GPL-2.0
/* A TCP congestion control written as struct_ops, counting its callbacks:
 * Reno's arithmetic, enough for a loopback connection to make progress.
 * tests/tests/struct_ops.rs registers it and selects it on a socket with
 * setsockopt(TCP_CONGESTION); `ebpf_cc_spare` is created only when asked. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 inits;
__u64 ssthreshes;
__u64 cong_avoids;
__u64 undos;

SEC("struct_ops/ebpf_cc_init")
void BPF_PROG(ebpf_cc_init, struct sock *sk)
{
	__sync_fetch_and_add(&inits, 1);
}

SEC("struct_ops/ebpf_cc_ssthresh")
__u32 BPF_PROG(ebpf_cc_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u32 half = tp->snd_cwnd >> 1;

	__sync_fetch_and_add(&ssthreshes, 1);
	return half > 2 ? half : 2;
}

SEC("struct_ops/ebpf_cc_cong_avoid")
void BPF_PROG(ebpf_cc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	__sync_fetch_and_add(&cong_avoids, 1);
	/* Slow start, one segment per ACKed segment, capped. */
	if (tp->snd_cwnd < 1000)
		tp->snd_cwnd += acked;
}

SEC("struct_ops/ebpf_cc_undo_cwnd")
__u32 BPF_PROG(ebpf_cc_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = (struct tcp_sock *)sk;

	__sync_fetch_and_add(&undos, 1);
	return tp->snd_cwnd;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops ebpf_cc = {
	.init = (void *)ebpf_cc_init,
	.ssthresh = (void *)ebpf_cc_ssthresh,
	.cong_avoid = (void *)ebpf_cc_cong_avoid,
	.undo_cwnd = (void *)ebpf_cc_undo_cwnd,
	.name = "ebpf_test_cc",
};

/* Created only when asked (a `?` section: autocreate off), sharing the
 * callbacks above. */
SEC("?.struct_ops")
struct tcp_congestion_ops ebpf_cc_spare = {
	.init = (void *)ebpf_cc_init,
	.ssthresh = (void *)ebpf_cc_ssthresh,
	.cong_avoid = (void *)ebpf_cc_cong_avoid,
	.undo_cwnd = (void *)ebpf_cc_undo_cwnd,
	.name = "ebpf_test_spare",
};
