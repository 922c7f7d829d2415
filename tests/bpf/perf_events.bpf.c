// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs run by perf events the tests open: a perf_event program for
 * counter events, and a tracepoint program attached through the perf event
 * of its tracepoint. Each counts the test thread's runs in its slot. */

enum slot { SAMPLE, TRACEPOINT, NR_SLOTS };

#include "target_hits.h"

SEC("perf_event")
int on_sample(void *ctx)
{
	if (is_target())
		count_hit(SAMPLE);
	return 0;
}

SEC("tracepoint")
int on_tracepoint(void *ctx)
{
	if (is_target())
		count_hit(TRACEPOINT);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
