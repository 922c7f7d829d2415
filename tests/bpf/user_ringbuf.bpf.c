// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A user ring buffer, drained by the raw_tp program `drain` when the test
 * runs it. Each sample is a `struct head` and `words` words, word i being
 * FILL(seq, i); the program checks every sample (size, order, each word)
 * and counts what it saw in the globals below. */
#include "common.h"

#define MAX_WORDS 8
#define FILL(seq, i) ((seq) * 31 + (i) + 1)

struct head {
	__u64 seq;
	__u64 words;
};

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 16384);
} samples SEC(".maps");

/* Samples handed to `take`, in all. */
__u64 drained;
/* The sequence number the next sample should have. */
__u64 next_seq;
/* Samples out of order or whose size or words are wrong. */
__u64 bad;
/* What the last bpf_user_ringbuf_drain returned. */
long last_ret;

static long take(struct bpf_dynptr *sample, void *ctx)
{
	struct head h;
	__u64 word;

	drained++;
	if (bpf_dynptr_read(&h, sizeof(h), sample, 0, 0)) {
		bad++;
		return 0;
	}
	if (h.seq != next_seq || h.words > MAX_WORDS)
		bad++;
	next_seq = h.seq + 1;
	for (__u32 i = 0; i < MAX_WORDS; i++) {
		if (i >= h.words)
			break;
		if (bpf_dynptr_read(&word, sizeof(word), sample, sizeof(h) + i * 8, 0) ||
		    word != FILL(h.seq, i)) {
			bad++;
			break;
		}
	}
	/* A sample longer than its words say is wrong too. */
	if (!bpf_dynptr_read(&word, 1, sample, sizeof(h) + h.words * 8, 0))
		bad++;
	return 0;
}

SEC("raw_tp")
int drain(void *ctx)
{
	last_ret = bpf_user_ringbuf_drain(&samples, take, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
