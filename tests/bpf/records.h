/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The records the reader tests and the benchmark produce, so a reader can
 * check each one it receives: a record of `size` bytes (a multiple of 8,
 * from 16 to MAX_RECORD) is `size / 8` little 64-bit words, word 0 the
 * sequence number, each word after it `fill(seq, i)`, and the last word the
 * checksum of every word before it. The tests recompute both from the bytes
 * they receive. */
#pragma once

#define MAX_RECORD 256
#define MAX_WORDS (MAX_RECORD / 8)

struct scratch {
	__u64 words[MAX_WORDS];
};

static __always_inline __u64 fill(__u64 seq, __u32 i)
{
	return (seq + 1) * 0x9e3779b97f4a7c15ULL ^ ((__u64)i << 56 | i);
}

static __always_inline __u64 checksum_step(__u64 sum, __u64 word)
{
	return (sum ^ word) * 0x100000001b3ULL;
}

#define CHECKSUM_SEED 0xcbf29ce484222325ULL

/* Writes the record with sequence number `seq` into `buf`; `size` must be a
 * multiple of 8 between 16 and MAX_RECORD. */
static __always_inline void make_record(struct scratch *buf, __u64 seq, __u32 size)
{
	__u32 last = size / 8 - 1;
	__u64 sum = CHECKSUM_SEED;

	buf->words[0] = seq;
	sum = checksum_step(sum, seq);
	for (__u32 i = 1; i < MAX_WORDS; i++) {
		if (i >= last)
			break;
		buf->words[i] = fill(seq, i);
		sum = checksum_step(sum, buf->words[i]);
	}
	if (last < MAX_WORDS)
		buf->words[last] = sum;
}

/* The size argument of a producer, made provably bounded for the verifier:
 * a multiple of 8 from 16 to MAX_RECORD, or 0 when out of range. */
static __always_inline __u32 record_size(__u64 size)
{
	if (size < 16 || size > MAX_RECORD || size % 8)
		return 0;
	return size;
}
