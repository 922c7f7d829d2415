// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tcpconnect: every TCP connect, seen in the kernel's socket state
 * changes. Entering SYN_SENT happens in the connecting process, which is
 * remembered per socket; leaving it (for ESTABLISHED, or CLOSE when the
 * peer refuses) ends the connect and sends one event, with its latency. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define AF_INET6 10

struct connecting {
	__u64 start_ns;
	__u32 pid;
	char comm[16];
};

struct connect_event {
	__u64 latency_ns;
	__u32 pid;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u8 established;
	__u8 unused;
	char comm[16];
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 unused2;
};

/* Ring buffer records carry no type in BTF; this puts the event's there. */
struct connect_event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct connecting);
} connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tp/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	struct connecting *c, start = {};
	struct connect_event *e;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->newstate == TCP_SYN_SENT) {
		start.start_ns = bpf_ktime_get_ns();
		start.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(start.comm, sizeof(start.comm));
		bpf_map_update_elem(&connecting, &sk, &start, BPF_ANY);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;
	c = bpf_map_lookup_elem(&connecting, &sk);
	if (!c)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->latency_ns = bpf_ktime_get_ns() - c->start_ns;
		e->pid = c->pid;
		__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
		e->family = ctx->family;
		e->sport = ctx->sport;
		e->dport = ctx->dport;
		e->established = ctx->newstate == TCP_ESTABLISHED;
		/* Copied by helper: the verifier refuses loads through a
		 * context pointer moved to an array field. */
		if (ctx->family == AF_INET) {
			bpf_probe_read_kernel(e->saddr, 4, ctx->saddr);
			bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
		} else {
			bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
			bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
		}
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&connecting, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
