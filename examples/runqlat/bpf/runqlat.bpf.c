// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* runqlat: how long runnable threads wait for a CPU. A thread's wait
 * starts when it is woken (or preempted while still runnable) and ends
 * when the scheduler switches to it; each wait is counted in a log2
 * histogram of microseconds kept in a global array. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define SLOTS 27
#define TASK_RUNNING 0

/* Set before load: only threads of this process (0: every process). */
const volatile __u32 target_tgid = 0;

/* hist[k] counts waits of [2^k, 2^(k+1)) us (slot 0 also holds 0 us). */
__u64 hist[SLOTS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} waiting_since SEC(".maps");

/* Before Linux 5.14 the task's state was `long state`; CO-RE picks the
 * field the running kernel has. */
struct task_struct___pre_5_14 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre_5_14 *)t, state);
}

/* floor(log2(v)) for v > 0, by halving the width searched each step. */
static __always_inline __u32 log2_32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

static __always_inline __u32 log2_64(__u64 v)
{
	__u32 high = v >> 32;

	return high ? log2_32(high) + 32 : log2_32((__u32)v);
}

static __always_inline void start_wait(struct task_struct *p)
{
	__u32 tid = p->pid;
	__u64 now;

	if (!tid || (target_tgid && p->tgid != target_tgid))
		return;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&waiting_since, &tid, &now, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	start_wait(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	start_wait(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid = next->pid;
	__u64 *since, usecs;
	__u32 slot;

	/* Preempted, still runnable: it waits in the queue again. */
	if (task_state(prev) == TASK_RUNNING)
		start_wait(prev);
	since = bpf_map_lookup_elem(&waiting_since, &tid);
	if (!since)
		return 0;
	usecs = (bpf_ktime_get_ns() - *since) / 1000;
	slot = usecs ? log2_64(usecs) : 0;
	if (slot >= SLOTS)
		slot = SLOTS - 1;
	__sync_fetch_and_add(&hist[slot], 1);
	bpf_map_delete_elem(&waiting_since, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
