// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Socket local storage (Linux 5.2). The program reads what Rust stored for
 * the socket at hand (`from_user`) and answers in the same entry
 * (`from_prog = from_user + 1`); for the socket bound to `create_port` it
 * creates the entry when Rust stored none, so that Rust then reads what the
 * program wrote. Task storage, 5.11's, is task_storage.bpf.c's, so that an
 * older kernel loads this object. */
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

/* The local port of the socket whose entry the egress program creates. */
__u32 create_port;

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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
