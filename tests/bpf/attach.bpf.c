// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs attached to hooks the test names: an interface (xdp, tcx), a
 * cgroup, a perf event, a function of the test binary, a tracepoint and a
 * raw tracepoint chosen at attach time, and a kprobe. Each counts into its
 * own slot of `hits`; the per-thread ones only count the thread in `target`. */

#define TCX_NEXT -1

enum slot { XDP, TCX, EGRESS, PERF, UPROBE, TP, RAW_TP, KPROBE, NR_SLOTS };

#include "target_hits.h"

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
	count_hit(XDP);
	return XDP_PASS;
}

SEC("tcx/ingress")
int count_tcx(struct __sk_buff *skb)
{
	count_hit(TCX);
	return TCX_NEXT;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	count_hit(EGRESS);
	return 1;
}

SEC("perf_event")
int count_perf(void *ctx)
{
	if (is_target())
		count_hit(PERF);
	return 0;
}

SEC("uprobe")
int count_uprobe(struct pt_regs *ctx)
{
	if (is_target())
		count_hit(UPROBE);
	return 0;
}

SEC("tracepoint")
int count_tp(void *ctx)
{
	if (is_target())
		count_hit(TP);
	return 0;
}

SEC("raw_tp")
int count_raw(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID && is_target())
		count_hit(RAW_TP);
	return 0;
}

SEC("kprobe")
int count_kprobe(struct pt_regs *ctx)
{
	count_hit(KPROBE);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
