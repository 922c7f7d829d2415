// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One map of every kind the typed maps cover, and raw_tp programs the tests
 * run with BPF_PROG_TEST_RUN. Each program takes its arguments from the
 * context it is run with (args[0] is the operation, args[1..3] operands):
 * OP_WRITE writes into its maps what Rust then reads; OP_READ reads what
 * Rust wrote and reports it in `out`, MISSING where nothing was found.
 * The bloom filter is in bloom.bpf.c, for kernels older than 5.16. */
#include "common.h"

#define OP_WRITE 0
#define OP_READ 1
#define MISSING 0xdeadbeefULL
#define NR_OUT 16

struct pair {
	__u32 pid;
	__u32 tag;
};

struct stats {
	__u64 count;
	__u32 last;
	__u32 flags;
};

struct ipv4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct record {
	__u64 a;
	__u64 b;
};

/* What the READ operations saw. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_OUT);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct pair);
	__type(value, struct stats);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

/* For the batch tests: filled by `fill_big` or by Rust. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} pc_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lru_pc_hash SEC(".maps");

/* 4-byte values: the kernel spaces them 8 bytes apart. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} pc_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipv4_key);
	__type(value, __u32);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u64);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u64);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps"), inner_c SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer_array SEC(".maps") = {
	.values = { &inner_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

static __always_inline void report(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&out, &slot, &value, BPF_ANY);
}

static __always_inline __u64 or_missing(__u64 *value)
{
	return value ? *value : MISSING;
}

#define OP (ctx->args[0])
#define ARG_A (ctx->args[1])
#define ARG_B (ctx->args[2])
#define ARG_C (ctx->args[3])

/* WRITE: hash[{a, b}] = {c, a + b, 0xabc}, lru[a] = c.
 * READ: out = [found, count, last, flags, lru[a]] of hash[{a, b}]. */
SEC("raw_tp")
int hash_prog(struct bpf_raw_tracepoint_args *ctx)
{
	struct pair key = { .pid = ARG_A, .tag = ARG_B };
	__u32 lru_key = ARG_A;
	__u64 c = ARG_C;

	if (OP == OP_WRITE) {
		struct stats value = { .count = c, .last = ARG_A + ARG_B, .flags = 0xabc };

		bpf_map_update_elem(&hash, &key, &value, BPF_ANY);
		bpf_map_update_elem(&lru, &lru_key, &c, BPF_ANY);
		return 0;
	}
	struct stats *value = bpf_map_lookup_elem(&hash, &key);

	report(0, value != 0);
	report(1, value ? value->count : MISSING);
	report(2, value ? value->last : MISSING);
	report(3, value ? value->flags : MISSING);
	report(4, or_missing(bpf_map_lookup_elem(&lru, &lru_key)));
	return 0;
}

struct sum_ctx {
	__u64 count;
	__u64 sum;
};

static long add_entry(void *map, __u32 *key, __u64 *value, struct sum_ctx *sum)
{
	sum->count++;
	sum->sum += *key * 1000 + *value;
	return 0;
}

static long fill_one(__u64 i, __u64 *mul)
{
	__u32 key = i;
	__u64 value = i * *mul;

	bpf_map_update_elem(&big, &key, &value, BPF_ANY);
	return 0;
}

/* WRITE: big[i] = i * b for i in 0..a.
 * READ: out = [entries, sum of key * 1000 + value] of big. */
SEC("raw_tp")
int big_prog(struct bpf_raw_tracepoint_args *ctx)
{
	if (OP == OP_WRITE) {
		__u64 mul = ARG_B;

		bpf_loop(ARG_A, fill_one, &mul, 0);
		return 0;
	}
	struct sum_ctx sum = {};

	bpf_for_each_map_elem(&big, add_entry, &sum, 0);
	report(0, sum.count);
	report(1, sum.sum);
	return 0;
}

/* WRITE: array[a] = b. READ: out[0] = array[a]. */
SEC("raw_tp")
int array_prog(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 index = ARG_A;
	__u64 value = ARG_B;

	if (OP == OP_WRITE) {
		bpf_map_update_elem(&array, &index, &value, BPF_ANY);
		return 0;
	}
	report(0, or_missing(bpf_map_lookup_elem(&array, &index)));
	return 0;
}

/* WRITE: this CPU's value of pc_hash[a], lru_pc_hash[a] and pc_array[a]
 * becomes b + cpu (the other CPUs' values of a new key are zero).
 * READ: out = [pc_hash[a], lru_pc_hash[a], pc_array[a], cpu] on this CPU. */
SEC("raw_tp")
int per_cpu_prog(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 key = ARG_A, cpu = bpf_get_smp_processor_id();
	__u64 value = ARG_B + cpu;

	if (OP == OP_WRITE) {
		__u64 *old = bpf_map_lookup_elem(&pc_hash, &key);
		__u32 *slot = bpf_map_lookup_elem(&pc_array, &key);

		if (old)
			*old = value;
		else
			bpf_map_update_elem(&pc_hash, &key, &value, BPF_NOEXIST);
		old = bpf_map_lookup_elem(&lru_pc_hash, &key);
		if (old)
			*old = value;
		else
			bpf_map_update_elem(&lru_pc_hash, &key, &value, BPF_NOEXIST);
		if (slot)
			*slot = value;
		return 0;
	}
	__u32 *slot = bpf_map_lookup_elem(&pc_array, &key);

	report(0, or_missing(bpf_map_lookup_elem(&pc_hash, &key)));
	report(1, or_missing(bpf_map_lookup_elem(&lru_pc_hash, &key)));
	report(2, slot ? *slot : MISSING);
	report(3, cpu);
	return 0;
}

/* WRITE: routes[a.0.0.0/b] = c (a is the first byte of the address).
 * READ: out[0] = the value of the longest prefix matching the address in
 * args[1] (4 bytes, network order), out[1] = its prefix's length. */
SEC("raw_tp")
int lpm_prog(struct bpf_raw_tracepoint_args *ctx)
{
	if (OP == OP_WRITE) {
		struct ipv4_key key = { .prefixlen = ARG_B, .addr = { ARG_A } };
		__u32 value = ARG_C;

		bpf_map_update_elem(&routes, &key, &value, BPF_ANY);
		return 0;
	}
	struct ipv4_key key = { .prefixlen = 32 };
	__u32 addr = ARG_A;

	__builtin_memcpy(key.addr, &addr, 4);
	__u32 *value = bpf_map_lookup_elem(&routes, &key);

	report(0, value ? *value : MISSING);
	return 0;
}

/* WRITE: pushes a then b on queue and stack.
 * READ: out = [queue pop, queue pop, stack pop, stack pop, queue peek]. */
SEC("raw_tp")
int queue_stack_prog(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 a = ARG_A, b = ARG_B, value;

	if (OP == OP_WRITE) {
		bpf_map_push_elem(&queue, &a, 0);
		bpf_map_push_elem(&queue, &b, 0);
		bpf_map_push_elem(&stack, &a, 0);
		bpf_map_push_elem(&stack, &b, 0);
		return 0;
	}
	report(0, bpf_map_pop_elem(&queue, &value) ? MISSING : value);
	report(1, bpf_map_pop_elem(&queue, &value) ? MISSING : value);
	report(2, bpf_map_pop_elem(&stack, &value) ? MISSING : value);
	report(3, bpf_map_pop_elem(&stack, &value) ? MISSING : value);
	report(4, bpf_map_peek_elem(&queue, &value) ? MISSING : value);
	return 0;
}

/* Jumps to jump[a]; out[0] = 1 if there was nothing there. */
SEC("raw_tp")
int tail_caller(struct bpf_raw_tracepoint_args *ctx)
{
	bpf_tail_call(ctx, &jump, ARG_A);
	report(0, 1);
	return 0;
}

/* Where the test sends `tail_caller`: out[1] = b. */
SEC("raw_tp")
int tail_target(struct bpf_raw_tracepoint_args *ctx)
{
	report(1, ARG_B);
	return 0;
}

/* WRITE: (the map in outer_array[a])[0] = b, (the map in outer_hash[a])[0] = c.
 * READ: out = [that of outer_array[a], that of outer_hash[a]]. */
SEC("raw_tp")
int of_maps_prog(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 key = ARG_A, zero = 0;
	__u64 b = ARG_B, c = ARG_C;
	void *by_index = bpf_map_lookup_elem(&outer_array, &key);
	void *by_key = bpf_map_lookup_elem(&outer_hash, &key);

	if (OP == OP_WRITE) {
		if (by_index)
			bpf_map_update_elem(by_index, &zero, &b, BPF_ANY);
		if (by_key)
			bpf_map_update_elem(by_key, &zero, &c, BPF_ANY);
		return 0;
	}
	report(0, by_index ? or_missing(bpf_map_lookup_elem(by_index, &zero)) : MISSING);
	report(1, by_key ? or_missing(bpf_map_lookup_elem(by_key, &zero)) : MISSING);
	return 0;
}

/* out[0] = the id of this kernel stack in `stacks` (negative: an error). */
SEC("raw_tp")
int stack_prog(struct bpf_raw_tracepoint_args *ctx)
{
	report(0, bpf_get_stackid(ctx, &stacks, 0));
	return 0;
}

/* WRITE: a record {a, b} into `ring`; out[0] = the helper's result.
 * READ: out = [bytes not yet consumed, consumer position]. */
SEC("raw_tp")
int ring_prog(struct bpf_raw_tracepoint_args *ctx)
{
	if (OP == OP_WRITE) {
		struct record rec = { .a = ARG_A, .b = ARG_B };

		report(0, bpf_ringbuf_output(&ring, &rec, sizeof(rec), 0));
		return 0;
	}
	report(0, bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA));
	report(1, bpf_ringbuf_query(&ring, BPF_RB_CONS_POS));
	return 0;
}

/* A record {a, b} to the perf event of this CPU; out[0] = the result. */
SEC("raw_tp")
int perf_prog(struct bpf_raw_tracepoint_args *ctx)
{
	struct record rec = { .a = ARG_A, .b = ARG_B };

	report(0, bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &rec, sizeof(rec)));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
