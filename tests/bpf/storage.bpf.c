// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Socket and task local storage. Each program reads what Rust stored for
 * the socket or task at hand (`from_user`) and answers in the same entry
 * (`from_prog = from_user + 1`); for the socket bound to `create_port` and
 * for the process `target_tgid` it creates the entry when Rust stored none,
 * so that Rust then reads what the program wrote. */
#include "common.h"

#define ANSWER(v) ((v)->from_prog = (v)->from_user + 1)

struct owned {
	__u64 from_user;
	__u64 from_prog;
	__u64 runs;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} tasks SEC(".maps");

/* The local port of the socket whose entry the egress program creates. */
__u32 create_port;
/* The process whose entry the write tracepoint program creates. */
__u32 target_tgid;

SEC("cgroup_skb/egress")
int socket_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct owned *v;
	__u64 flags = 0;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	if (create_port && sk->src_port == create_port)
		flags = BPF_SK_STORAGE_GET_F_CREATE;
	v = bpf_sk_storage_get(&sockets, sk, 0, flags);
	if (v) {
		ANSWER(v);
		__sync_fetch_and_add(&v->runs, 1);
	}
	return 1;
}

SEC("tp/syscalls/sys_enter_write")
int task_write(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct owned *v;

	if (!target_tgid || tgid != target_tgid)
		return 0;
	v = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (v) {
		ANSWER(v);
		__sync_fetch_and_add(&v->runs, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
