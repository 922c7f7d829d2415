// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Pre-fills rings for the reader benchmark (bench/), one ring per reader
 * compared so that all of them exist at once and rounds can alternate.
 * Both programs are run with BPF_PROG_TEST_RUN; their context is the u64
 * arguments (count, size in bytes: 8 to 256 in steps of 8, ring index).
 * Word 0 of each record is its sequence number. */
#include "common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define RING(name)                                      \
	struct {                                        \
		__uint(type, BPF_MAP_TYPE_RINGBUF);     \
		__uint(max_entries, 4 * 1024 * 1024);   \
	} name SEC(".maps")

RING(ring0);
RING(ring1);
RING(ring2);
RING(ring3);

#define PERF(name)                                              \
	struct {                                                \
		__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);    \
		__uint(key_size, sizeof(__u32));                \
		__uint(value_size, sizeof(__u32));              \
	} name SEC(".maps")

PERF(perf0);
PERF(perf1);
PERF(perf2);
PERF(perf3);

struct buf {
	__u64 words[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct buf);
} scratch SEC(".maps");

struct fill_ctx {
	void *ctx;
	__u32 size;
	__u32 ring;
	__u64 written;
};

static __always_inline __u32 bounded(__u64 size)
{
	if (size < 8 || size > sizeof(struct buf) || size % 8)
		return 0;
	return size;
}

static long ring_one(__u64 i, struct fill_ctx *c)
{
	__u32 zero = 0, size = bounded(c->size);
	struct buf *buf = bpf_map_lookup_elem(&scratch, &zero);
	long err;

	if (!buf || !size)
		return 1;
	buf->words[0] = i;
	if (c->ring == 0)
		err = bpf_ringbuf_output(&ring0, buf, size, 0);
	else if (c->ring == 1)
		err = bpf_ringbuf_output(&ring1, buf, size, 0);
	else if (c->ring == 2)
		err = bpf_ringbuf_output(&ring2, buf, size, 0);
	else
		err = bpf_ringbuf_output(&ring3, buf, size, 0);
	if (err)
		return 1; /* full */
	c->written++;
	return 0;
}

static long perf_one(__u64 i, struct fill_ctx *c)
{
	__u32 zero = 0, size = bounded(c->size);
	struct buf *buf = bpf_map_lookup_elem(&scratch, &zero);
	long err;

	if (!buf || !size)
		return 1;
	buf->words[0] = i;
	if (c->ring == 0)
		err = bpf_perf_event_output(c->ctx, &perf0, BPF_F_CURRENT_CPU, buf, size);
	else if (c->ring == 1)
		err = bpf_perf_event_output(c->ctx, &perf1, BPF_F_CURRENT_CPU, buf, size);
	else if (c->ring == 2)
		err = bpf_perf_event_output(c->ctx, &perf2, BPF_F_CURRENT_CPU, buf, size);
	else
		err = bpf_perf_event_output(c->ctx, &perf3, BPF_F_CURRENT_CPU, buf, size);
	if (err)
		return 1; /* full */
	c->written++;
	return 0;
}

/* The number of records written is returned in the program's return value. */
SEC("raw_tp")
int fill_ringbuf(struct bpf_raw_tracepoint_args *ctx)
{
	struct fill_ctx c = { .size = ctx->args[1], .ring = ctx->args[2] };

	bpf_loop(ctx->args[0], ring_one, &c, 0);
	return c.written;
}

SEC("raw_tp")
int fill_perf(struct bpf_raw_tracepoint_args *ctx)
{
	struct fill_ctx c = { .ctx = ctx, .size = ctx->args[1], .ring = ctx->args[2] };

	bpf_loop(ctx->args[0], perf_one, &c, 0);
	return c.written;
}
