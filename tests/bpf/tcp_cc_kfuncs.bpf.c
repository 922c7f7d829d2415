// SPDX-License-Identifier: GPL-2.0
/* One object with kfuncs, a ksym variable and a struct_ops map together:
 * a TCP congestion control registered through a `.struct_ops.link` map
 * whose callbacks hand the work to the kernel's own Reno through its TCP
 * congestion-control kfuncs (callable from struct_ops programs since
 * Linux 5.13), and which records the address of the typeless ksym `_text`
 * (libbpf takes it from kallsyms at load). tests/tests/struct_ops.rs
 * registers it, selects it on a loopback socket with
 * setsockopt(TCP_CONGESTION) and reads the counts. */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* The kernel's Reno, as kfuncs. */
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

/* A typeless ksym: only its address, from kallsyms. */
extern const void _text __ksym;

__u64 inits;
__u64 ssthreshes;
__u64 cong_avoids;
__u64 undos;
/* The address of `_text`, as the init callback saw it. */
__u64 text_addr;
/* At init: the congestion window, and what Reno's kfuncs computed from it
 * (the slow-start threshold it would set on a loss, half the window but at
 * least 2; the window an undo would restore, the window itself as nothing
 * was reduced yet). */
__u32 init_cwnd;
__u32 init_ssthresh;
__u32 init_undo_cwnd;

SEC("struct_ops/kf_cc_init")
void BPF_PROG(kf_cc_init, struct sock *sk)
{
	const struct tcp_sock *tp = (struct tcp_sock *)sk;

	text_addr = (__u64)&_text;
	init_cwnd = tp->snd_cwnd;
	init_ssthresh = tcp_reno_ssthresh(sk);
	init_undo_cwnd = tcp_reno_undo_cwnd(sk);
	__sync_fetch_and_add(&inits, 1);
}

SEC("struct_ops/kf_cc_ssthresh")
__u32 BPF_PROG(kf_cc_ssthresh, struct sock *sk)
{
	__sync_fetch_and_add(&ssthreshes, 1);
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops/kf_cc_cong_avoid")
void BPF_PROG(kf_cc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__sync_fetch_and_add(&cong_avoids, 1);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops/kf_cc_undo_cwnd")
__u32 BPF_PROG(kf_cc_undo_cwnd, struct sock *sk)
{
	__sync_fetch_and_add(&undos, 1);
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops.link")
struct tcp_congestion_ops kf_cc = {
	.init = (void *)kf_cc_init,
	.ssthresh = (void *)kf_cc_ssthresh,
	.cong_avoid = (void *)kf_cc_cong_avoid,
	.undo_cwnd = (void *)kf_cc_undo_cwnd,
	.name = "ebpf_test_kf",
};
