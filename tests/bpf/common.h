/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by the test programs: kernel UAPI types, libbpf's helpers, and the
 * few kernel structs the programs read, declared locally with
 * preserve_access_index so CO-RE relocates them against the running kernel's
 * BTF (no multi-megabyte vmlinux.h in the repository). */
#pragma once

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define NR_GETPPID 110 /* x86_64 */

/* The context of tp/syscalls/sys_enter_* tracepoints. */
struct trace_event_raw_sys_enter {
	long id;
	unsigned long args[6];
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

/* The calling thread's id: tests run in threads of one process, so they key
 * their counters by thread, not by process. */
static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline void count_in(void *map, __u32 key)
{
	__u64 one = 1, *value = bpf_map_lookup_elem(map, &key);

	if (value) {
		__sync_fetch_and_add(value, 1);
		return;
	}
	/* Another CPU may insert between the lookup and here: retry the add. */
	if (bpf_map_update_elem(map, &key, &one, BPF_NOEXIST)) {
		value = bpf_map_lookup_elem(map, &key);
		if (value)
			__sync_fetch_and_add(value, 1);
	}
}
