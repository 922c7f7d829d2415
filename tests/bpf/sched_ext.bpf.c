// SPDX-License-Identifier: GPL-2.0
/* A sched_ext scheduler that leaves every decision to the kernel's
 * defaults and counts its callbacks: `init` once, `running` each time the
 * target thread gets a CPU, `exit` with why it was unloaded.
 * tests/tests/sched_ext.rs sets its name and flags from Rust (partial
 * switching: only threads that ask for SCHED_EXT are its), registers it,
 * moves the test thread to it, and unregisters it. Kernels without
 * sched_ext (CONFIG_SCHED_CLASS_EXT) refuse to load it.
 *
 * The kernel's types are declared here, only the members used: libbpf
 * matches a struct_ops type's members to the kernel's by name, and CO-RE
 * relocates the reads (no vmlinux.h, which has sched_ext's types only on a
 * kernel that has it). */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

#define SCX_OPS_NAME_LEN 128

enum scx_exit_kind {
	SCX_EXIT_NONE,
};

struct scx_exit_info {
	enum scx_exit_kind kind;
} __attribute__((preserve_access_index));

struct sched_ext_ops {
	void (*running)(struct task_struct *p);
	int (*init)(void);
	void (*exit)(struct scx_exit_info *info);
	__u64 flags;
	__u32 timeout_ms;
	char name[SCX_OPS_NAME_LEN];
};

/* The thread whose turns on a CPU count. */
const volatile __u32 target_tid;

__u64 inits;
__u64 runs;
int exit_kind = -1;

SEC("struct_ops/running")
void BPF_PROG(ebpf_scx_running, struct task_struct *p)
{
	if (p->pid == target_tid)
		__sync_fetch_and_add(&runs, 1);
}

SEC("struct_ops.s/init")
int BPF_PROG(ebpf_scx_init)
{
	__sync_fetch_and_add(&inits, 1);
	return 0;
}

SEC("struct_ops/exit")
void BPF_PROG(ebpf_scx_exit, struct scx_exit_info *info)
{
	exit_kind = info->kind;
}

SEC(".struct_ops.link")
struct sched_ext_ops ebpf_scx = {
	.running = (void *)ebpf_scx_running,
	.init = (void *)ebpf_scx_init,
	.exit = (void *)ebpf_scx_exit,
	.name = "ebpf_skeleton",
};
