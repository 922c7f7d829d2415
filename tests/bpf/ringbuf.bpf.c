// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Producers for the ring buffer reader's tests.
 *
 * `produce` is run with BPF_PROG_TEST_RUN: its context is the u64 arguments
 * (count, size, first sequence number, ring, flags), and it writes `count`
 * checkable records (see records.h) into `events` (ring 0) or `small`
 * (ring 1), counting the ones that found no room. `produce_discards` writes
 * fixed-size records through reserve/commit and discards the odd ones.
 * `on_getppid` writes one record per getppid(2) of the thread in `target`.
 *
 * Both producers loop with bpf_loop (Linux 5.17). For older kernels
 * `produce_bounded` and `produce_discards_bounded` do the same with a plain
 * loop of at most MAX_BOUNDED turns; they are off by default (`?raw_tp`),
 * and a test switches on the pair its kernel loads. */
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

/* The producers without bpf_loop. Each record is written and counted by a
 * global function, which the verifier checks once on its own, and the loop
 * around it carries nothing but its index: the verifier walks each turn in
 * a few instructions, and no counter doubles the states it tells apart. */
#define MAX_BOUNDED 1024

/* Writes the record `seq` of `size` bytes into `ring` and counts it as
 * written or dropped; -1 for a size out of range. */
__noinline int output_record(__u64 seq, __u64 size, __u64 ring, __u64 flags)
{
	__u32 zero = 0;
	__u64 len = record_size(size);
	struct scratch *buf = bpf_map_lookup_elem(&scratch, &zero);
	long err;

	if (!buf || !len)
		return -1;
	make_record(buf, seq, len);
	/* The verifier of 5.10 forgets the bounds of a 32-bit value spilled to
	 * the stack: bound the length again where the helper takes it. */
	barrier_var(len);
	if (len > MAX_RECORD)
		return -1;
	if (ring == 0)
		err = bpf_ringbuf_output(&events, buf, len, flags);
	else
		err = bpf_ringbuf_output(&small, buf, len, flags);
	add_stat(err ? DROPPED : WRITTEN, 1);
	return 0;
}

/* args as `produce`'s; count at most MAX_BOUNDED */
SEC("?raw_tp")
int produce_bounded(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 count = ctx->args[0];

	for (__u32 i = 0; i < MAX_BOUNDED && i < count; i++)
		if (output_record(ctx->args[2] + i, ctx->args[1], ctx->args[3], ctx->args[4]) < 0)
			break;
	return 0;
}

/* `discard_one` of the record `seq`, as a global function. */
__noinline int reserve_record(__u64 seq)
{
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

/* args as `produce_discards`'; count at most MAX_BOUNDED */
SEC("?raw_tp")
int produce_discards_bounded(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 count = ctx->args[0];

	for (__u32 i = 0; i < MAX_BOUNDED && i < count; i++)
		reserve_record(ctx->args[1] + i);
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
	/* Only the thread in `target` gets here, one syscall at a time: a plain
	 * read and increment, no atomic fetch (which 5.10 lacks, 5.12's). */
	r->seq = (*seq)++;
	r->inverted = ~r->seq;
	bpf_ringbuf_submit(r, 0);
	add_stat(WRITTEN, 1);
	return 0;
}
