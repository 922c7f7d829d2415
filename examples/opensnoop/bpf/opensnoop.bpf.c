// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* opensnoop: every openat(2) with its result. The entry remembers the
 * path's address and the flags per thread; the exit reads the path and
 * sends one event with the descriptor or the error. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define COMM_LEN 16
#define PATH_LEN 256

/* Set before load; the verifier sees them as constants, so a filter that
 * is off costs nothing. */
const volatile __u32 target_pid = 0;           /* 0: every process */
const volatile __u32 target_uid = (__u32)-1;   /* -1: every user */

struct open_args {
	const char *path;
	__s32 flags;
};

struct open_event {
	__u32 pid;
	__u32 uid;
	__s32 ret;
	__s32 flags;
	char comm[COMM_LEN];
	char path[PATH_LEN];
};

/* Ring buffer records carry no type in BTF; this puts the event's there. */
struct open_event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct open_args);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 dropped = 0;

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct open_args args = {};

	if (target_pid && (__u32)(id >> 32) != target_pid)
		return 0;
	if (target_uid != (__u32)-1 && (__u32)bpf_get_current_uid_gid() != target_uid)
		return 0;
	args.path = (const char *)ctx->args[1];
	args.flags = (__s32)ctx->args[2];
	bpf_map_update_elem(&pending, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct open_args *args;
	struct open_event *e;

	args = bpf_map_lookup_elem(&pending, &tid);
	if (!args)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		goto done;
	}
	e->pid = id >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = (__s32)ctx->ret;
	e->flags = args->flags;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->path, sizeof(e->path), args->path);
	bpf_ringbuf_submit(e, 0);
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
