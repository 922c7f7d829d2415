// SPDX-License-Identifier: GPL-2.0
/* BPF streams (Linux 6.17+): a raw tracepoint program, run with
 * BPF_PROG_TEST_RUN, writes lines to its own stdout and one to its stderr
 * with libbpf's bpf_stream_printk (tests/tests/streams.rs).
 *
 * The kfunc behind bpf_stream_printk changed between kernels:
 *   6.17:  bpf_stream_vprintk(id, fmt, args, len, aux__prog)
 *   6.18:  bpf_stream_vprintk_impl(id, fmt, args, len, aux__prog)
 *   7.0+:  bpf_stream_vprintk(id, fmt, args, len), the verifier adding aux
 * libbpf 1.7's macro calls the 4-argument name. Each form is declared weak
 * (the 6.17 one under a `___` flavor, which libbpf strips when it looks the
 * name up, and whose prototype must match the kernel's or it stays
 * unresolved), and the program calls the one this kernel has. On a kernel
 * with none of them (before 6.17) the object loads all the same and the
 * program writes nothing; `variant` says which one ran. */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_stream_vprintk___implicit(int stream_id, const char *fmt__str, const void *args,
					 __u32 len__sz) __weak __ksym;
extern int bpf_stream_vprintk_impl(int stream_id, const char *fmt__str, const void *args,
				   __u32 len__sz, void *aux__prog) __weak __ksym;
extern int bpf_stream_vprintk___aux(int stream_id, const char *fmt__str, const void *args,
				    __u32 len__sz, void *aux__prog) __weak __ksym;

/* Which kfunc the last write went through. */
enum {
	VARIANT_NONE = 0,
	VARIANT_IMPLICIT = 1, /* 7.0+ */
	VARIANT_IMPL = 2,     /* 6.18 */
	VARIANT_AUX = 3,      /* 6.17 */
};

__u32 variant;
/* Writes the kernel took (the kfunc returned 0), and the last refusal. */
__u32 written;
__s32 last_error;

static __always_inline int stream_vprintk(int stream_id, const char *fmt, const void *args,
					  __u32 len)
{
	int ret;

	if (bpf_ksym_exists(bpf_stream_vprintk___implicit)) {
		variant = VARIANT_IMPLICIT;
		ret = bpf_stream_vprintk___implicit(stream_id, fmt, args, len);
	} else if (bpf_ksym_exists(bpf_stream_vprintk_impl)) {
		variant = VARIANT_IMPL;
		ret = bpf_stream_vprintk_impl(stream_id, fmt, args, len, NULL);
	} else if (bpf_ksym_exists(bpf_stream_vprintk___aux)) {
		variant = VARIANT_AUX;
		ret = bpf_stream_vprintk___aux(stream_id, fmt, args, len, NULL);
	} else {
		variant = VARIANT_NONE;
		return 0;
	}
	if (ret == 0)
		written++;
	else
		last_error = ret;
	return ret;
}

/* What libbpf's bpf_stream_printk macro calls. */
#define bpf_stream_vprintk(stream_id, fmt, args, len) stream_vprintk(stream_id, fmt, args, len)

/* args[0]: how many stdout lines; args[1]: a tag the lines carry. */
SEC("raw_tp")
int write_streams(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 lines = ctx->args[0];
	__u64 tag = ctx->args[1];
	__u64 i;

	for (i = 1; i <= 3; i++) {
		if (i > lines)
			break;
		bpf_stream_printk(BPF_STDOUT, "stream test tag=%llu line %llu of %llu\n", tag, i,
				  lines);
	}
	bpf_stream_printk(BPF_STDERR, "stream test tag=%llu: something went wrong (%d)\n", tag,
			  -22);
	return 0;
}
