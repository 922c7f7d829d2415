// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A record filled in a local variable and sent with bpf_ringbuf_output, as
 * many tools do: clang leaves `struct sample` out of the object's BTF, so
 * the macros cannot generate or check it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sample {
	__u32 pid;
	__u32 cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} samples SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int send_sample(void *ctx)
{
	struct sample s = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.cpu = bpf_get_smp_processor_id(),
	};

	bpf_ringbuf_output(&samples, &s, sizeof(s), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
