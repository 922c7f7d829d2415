// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Producers for the ring buffer reader's tests.
 *
 * `produce` is run with BPF_PROG_TEST_RUN: its context is the u64 arguments
 * (count, size, first sequence number, ring, flags), and it writes `count`
 * checkable records (see records.h) into `events` (ring 0) or `small`
 * (ring 1), counting the ones that found no room. `produce_discards` writes
 * fixed-size records through reserve/commit and discards the odd ones.
 * `on_getppid` writes one record per getppid(2) of the thread in `target`. */
#include "common.h"
#include "records.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* One page: records wrap around its end every few dozen. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* thread id whose getppid calls produce, 0 for none */
} target SEC(".maps");

enum stat { WRITTEN, DROPPED, SYSCALL_SEQ, NR_STATS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_STATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void add_stat(__u32 key, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &key);

	if (value)
		__sync_fetch_and_add(value, n);
}

struct produce_ctx {
	__u64 first_seq;
	__u64 flags;
	__u32 size;
	__u32 ring;
	__u64 written;
	__u64 dropped;
};

static long produce_one(__u64 i, struct produce_ctx *c)
{
	__u32 zero = 0, size = record_size(c->size);
	struct scratch *buf = bpf_map_lookup_elem(&scratch, &zero);
	long err;

	if (!buf || !size)
		return 1;
	make_record(buf, c->first_seq + i, size);
	if (c->ring == 0)
		err = bpf_ringbuf_output(&events, buf, size, c->flags);
	else
		err = bpf_ringbuf_output(&small, buf, size, c->flags);
	if (err)
		c->dropped++;
	else
		c->written++;
	return 0;
}

/* args: count, size, first seq, ring (0 events, 1 small), output flags */
SEC("raw_tp")
int produce(struct bpf_raw_tracepoint_args *ctx)
{
	struct produce_ctx c = {
		.first_seq = ctx->args[2],
		.flags = ctx->args[4],
		.size = ctx->args[1],
		.ring = ctx->args[3],
	};

	bpf_loop(ctx->args[0], produce_one, &c, 0);
	add_stat(WRITTEN, c.written);
	add_stat(DROPPED, c.dropped);
	return 0;
}

/* A fixed-size record through reserve/commit. */
struct small_record {
	__u64 seq;
	__u64 inverted; /* ~seq */
};

struct discard_ctx {
	__u64 first_seq;
};

static long discard_one(__u64 i, struct discard_ctx *c)
{
	__u64 seq = c->first_seq + i;
	struct small_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		add_stat(DROPPED, 1);
		return 0;
	}
	r->seq = seq;
	r->inverted = ~seq;
	if (seq & 1) {
		bpf_ringbuf_discard(r, 0);
	} else {
		bpf_ringbuf_submit(r, 0);
		add_stat(WRITTEN, 1);
	}
	return 0;
}

/* args: count, first seq. Records with an odd sequence number are discarded. */
SEC("raw_tp")
int produce_discards(struct bpf_raw_tracepoint_args *ctx)
{
	struct discard_ctx c = { .first_seq = ctx->args[1] };

	bpf_loop(ctx->args[0], discard_one, &c, 0);
	return 0;
}

/* One record per getppid(2) of the thread in `target`. */
SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u32 zero = 0, *tid = bpf_map_lookup_elem(&target, &zero), key = SYSCALL_SEQ;
	struct small_record *r;
	__u64 *seq;

	if (!tid || *tid == 0 || *tid != current_tid())
		return 0;
	seq = bpf_map_lookup_elem(&stats, &key);
	if (!seq)
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		add_stat(DROPPED, 1);
		return 0;
	}
	r->seq = __sync_fetch_and_add(seq, 1);
	r->inverted = ~r->seq;
	bpf_ringbuf_submit(r, 0);
	add_stat(WRITTEN, 1);
	return 0;
}
