// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bloom.bpf.c's program with its values on the stack, the way C usually
 * writes it, kept to pin a regression of the verifier.
 *
 * The kernel declares bpf_map_peek_elem's value as memory the helper
 * writes and that need not be initialized (ARG_PTR_TO_MAP_VALUE |
 * MEM_UNINIT | MEM_WRITE): true of queues and stacks, which copy their head
 * out, but a bloom filter reads the value to hash it. Linux 6.18 loads this
 * program; 7.2 and 7.3 take the stores of `a` and `b` for dead, poison
 * their stack slots, and then reject the call for reading them ("reading
 * from stack R2 off -20+0 size 4, slot poisoned by dead code elimination",
 * EACCES). tests/maps.rs asserts each kernel's outcome. */
#include "bloom.h"

/* args[0] is the operation: OP_WRITE adds args[1]; otherwise `out` says
 * whether the filter may have args[1] and args[2]. */
SEC("raw_tp")
int bloom_stack_prog(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 a = ctx->args[1], b = ctx->args[2];

	if (ctx->args[0] == OP_WRITE) {
		bpf_map_push_elem(&bloom, &a, 0);
		return 0;
	}
	report(0, bpf_map_peek_elem(&bloom, &a) == 0);
	report(1, bpf_map_peek_elem(&bloom, &b) == 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
