// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* execsnoop: one event per successful exec on the machine, sent through a
 * ring buffer, with totals kept in global variables. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define FILENAME_LEN 256

/* Local definitions, relocated by CO-RE against the running kernel. */
struct task_struct {
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct trace_event_raw_sched_process_exec {
	__u32 __data_loc_filename;
	int pid;
	int old_pid;
} __attribute__((preserve_access_index));

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_LEN];
};

/* Ring buffer records carry no type in BTF; this unused pointer puts
 * `struct event` there, for `types = [event]`. */
struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Totals the program keeps; user space reads them through the mmap. */
__u64 total_execs = 0;
__u64 dropped_events = 0;

/* Set before load: only report execs by this uid (-1 for all). */
const volatile __s64 target_uid = -1;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct task_struct *task;
	struct event *e;
	__u32 offset;

	if (target_uid >= 0 && uid != (__u32)target_uid)
		return 0;
	__sync_fetch_and_add(&total_execs, 1);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped_events, 1);
		return 0;
	}
	task = (struct task_struct *)bpf_get_current_task();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = uid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* The filename is a __data_loc string: its offset from the context is
	 * the low 16 bits of the field. */
	offset = BPF_CORE_READ(ctx, __data_loc_filename) & 0xFFFF;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + offset);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
