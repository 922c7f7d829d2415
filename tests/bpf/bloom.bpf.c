// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A bloom filter map (Linux 5.16) and a raw_tp program that asks it, apart
 * from maps.bpf.o and settings.bpf.o so that a kernel without bloom filters
 * still loads those. The program takes its arguments from the context it is
 * run with: args[0] is the operation, args[1..2] values. OP_WRITE adds a;
 * OP_READ reports in `out` whether the filter may have a and b. */
#include "bloom.h"

/* The values the program adds and asks about. They live in .bss, not on
 * the stack: the verifiers of Linux 7.2 and 7.3 reject a bloom filter's
 * value on the stack (bloom_stack.bpf.c pins that regression). Map value
 * memory has no such liveness. */
__u32 values[2];

SEC("raw_tp")
int bloom_prog(struct bpf_raw_tracepoint_args *ctx)
{
	values[0] = ctx->args[1];
	values[1] = ctx->args[2];
	if (ctx->args[0] == OP_WRITE) {
		bpf_map_push_elem(&bloom, &values[0], 0);
		return 0;
	}
	report(0, bpf_map_peek_elem(&bloom, &values[0]) == 0);
	report(1, bpf_map_peek_elem(&bloom, &values[1]) == 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
