// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Producers for the perf event array reader's tests.
 *
 * `produce` is run with BPF_PROG_TEST_RUN (on a chosen CPU): its context is
 * the u64 arguments (count, size, first sequence number), and it writes
 * `count` checkable records (see records.h) into the ring of the CPU it runs
 * on, counting per CPU the ones that found no room. `on_getppid` writes one
 * record per getppid(2) of the thread in `target`.
 *
 * `produce` loops with bpf_loop (Linux 5.17). For older kernels
 * `produce_bounded` does the same with a plain loop of at most MAX_BOUNDED
 * turns; it is off by default (`?raw_tp`), and a test switches on the
 * producer its kernel loads. */
#include "common.h"
#include "records.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* thread id whose getppid calls produce, 0 for none */
} target SEC(".maps");

enum stat { WRITTEN, DROPPED, NR_STATS };

/* Per CPU: what its ring took and what found no room. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
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

/* The next sequence number of `on_getppid`, shared by all CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} syscall_seq SEC(".maps");

static __always_inline void add_stat(__u32 key, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &key);

	if (value)
		*value += n; /* per-CPU, and programs do not nest here */
}

struct produce_ctx {
	void *ctx;
	__u64 first_seq;
	__u32 size;
	__u64 written;
	__u64 dropped;
};

static long produce_one(__u64 i, struct produce_ctx *c)
{
	__u32 zero = 0, size = record_size(c->size);
	struct scratch *buf = bpf_map_lookup_elem(&scratch, &zero);

	if (!buf || !size)
		return 1;
	make_record(buf, c->first_seq + i, size);
	if (bpf_perf_event_output(c->ctx, &events, BPF_F_CURRENT_CPU, buf, size))
		c->dropped++;
	else
		c->written++;
	return 0;
}

/* args: count, size, first seq */
SEC("raw_tp")
int produce(struct bpf_raw_tracepoint_args *ctx)
{
	struct produce_ctx c = {
		.ctx = ctx,
		.first_seq = ctx->args[2],
		.size = ctx->args[1],
	};

	bpf_loop(ctx->args[0], produce_one, &c, 0);
	add_stat(WRITTEN, c.written);
	add_stat(DROPPED, c.dropped);
	return 0;
}

/* The producer without bpf_loop. Each sample is written and counted by a
 * global function, which the verifier checks once on its own, and the loop
 * around it carries nothing but its index: the verifier walks each turn in
 * a few instructions, and no counter doubles the states it tells apart. */
#define MAX_BOUNDED 1024

/* Writes the sample `seq` of `size` bytes into this CPU's ring and counts
 * it as written or dropped; -1 for a size out of range. */
__noinline int output_sample(struct bpf_raw_tracepoint_args *ctx, __u64 seq, __u64 size)
{
	__u32 zero = 0;
	__u64 len = record_size(size);
	struct scratch *buf = bpf_map_lookup_elem(&scratch, &zero);

	if (!buf || !len)
		return -1;
	make_record(buf, seq, len);
	/* The verifier of 5.10 forgets the bounds of a 32-bit value spilled to
	 * the stack: bound the length again where the helper takes it. */
	barrier_var(len);
	if (len > MAX_RECORD)
		return -1;
	if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, buf, len))
		add_stat(DROPPED, 1);
	else
		add_stat(WRITTEN, 1);
	return 0;
}

/* args as `produce`'s; count at most MAX_BOUNDED */
SEC("?raw_tp")
int produce_bounded(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 count = ctx->args[0];

	for (__u32 i = 0; i < MAX_BOUNDED && i < count; i++)
		if (output_sample(ctx, ctx->args[2] + i, ctx->args[1]) < 0)
			break;
	return 0;
}

/* One 24-byte record per getppid(2) of the thread in `target`. */
SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u32 zero = 0, *tid = bpf_map_lookup_elem(&target, &zero);
	struct scratch *buf = bpf_map_lookup_elem(&scratch, &zero);
	__u64 *seq;

	if (!tid || *tid == 0 || *tid != current_tid() || !buf)
		return 0;
	seq = bpf_map_lookup_elem(&syscall_seq, &zero);
	if (!seq)
		return 0;
	/* Only the thread in `target` gets here, one syscall at a time: a plain
	 * read and increment, no atomic fetch (which 5.10 lacks, 5.12's). */
	make_record(buf, (*seq)++, 24);
	if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, buf, 24))
		add_stat(DROPPED, 1);
	else
		add_stat(WRITTEN, 1);
	return 0;
}
