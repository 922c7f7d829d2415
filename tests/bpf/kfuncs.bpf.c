// SPDX-License-Identifier: GPL-2.0
/* Kernel functions (kfuncs) and kernel variables (ksyms) from a program:
 * their `extern ... __ksym` declarations put FUNC and VAR entries in the
 * `.ksyms` section, which libbpf resolves against the kernel's BTF at load.
 * Weak ones the kernel lacks resolve to 0, and the program asks
 * `bpf_ksym_exists`. tests/tests/kfuncs.rs runs it on the test thread's
 * getppid(2) calls and reads what each call found.
 *
 * Typed ksyms are in their own program, `on_getppid_percpu`: the verifier
 * looks their addresses up in kallsyms, which holds kernel variables only
 * when the kernel is built with CONFIG_KALLSYMS_ALL. */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))
#endif

char LICENSE[] SEC("license") = "GPL";

#define NR_GETPPID 110 /* x86_64 */

/* kfuncs: acquire and release a task, an RCU section, a CPU mask. */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;
/* A weak kfunc no kernel has: the object loads all the same. */
extern int ebpf_skeleton_no_such_kfunc(void) __ksym __weak;

/* A typed ksym: a per-CPU kernel variable (each CPU's runqueue), read
 * through bpf_this_cpu_ptr; libbpf finds its type in the kernel's BTF. */
extern const struct rq runqueues __ksym;
/* A typeless ksym: only its address, which libbpf takes from kallsyms
 * (`_text`, the kernel image's start, is there on any configuration). */
extern const void _text __ksym;
/* A weak typed ksym no kernel has: its address is 0. */
extern const struct rq ebpf_skeleton_no_such_var __ksym __weak;

/* The thread whose getppid calls count (0: none). */
const volatile u32 target_tid;

struct report {
	u64 calls;
	/* bpf_task_from_pid found the caller's process, with this tgid. */
	u64 tasks_found;
	/* The address of `_text`. */
	u64 text_addr;
	s32 task_tgid;
	/* Calls on_getppid_percpu saw. */
	u32 percpu_calls;
	/* The runqueue of the CPU the program ran on says it is that CPU. */
	u32 rq_cpu_matches;
	/* A CPU mask holding the current CPU, tested. */
	u32 cpumask_hits;
	/* What bpf_ksym_exists said of the weak kfunc and variable. */
	u32 weak_kfunc_present;
	u32 weak_var_present;
};

struct report report;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);  /* CPU */
	__type(value, u64); /* calls seen on it */
} cpus SEC(".maps");

/* Whether this is a getppid call of the thread the test runs on. */
static __always_inline bool counted(long id)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();

	return id == NR_GETPPID && target_tid && tid == target_tid;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_getppid, struct pt_regs *regs, long id)
{
	u32 cpu = bpf_get_smp_processor_id();
	struct task_struct *task;
	struct bpf_cpumask *mask;
	u64 one = 1, *seen;

	if (!counted(id))
		return 0;
	__sync_fetch_and_add(&report.calls, 1);

	bpf_rcu_read_lock();
	task = bpf_task_from_pid(bpf_get_current_pid_tgid() >> 32);
	if (task) {
		report.task_tgid = task->tgid;
		__sync_fetch_and_add(&report.tasks_found, 1);
		bpf_task_release(task);
	}
	bpf_rcu_read_unlock();

	mask = bpf_cpumask_create();
	if (mask) {
		bpf_cpumask_set_cpu(cpu, mask);
		if (bpf_cpumask_test_cpu(cpu, (const struct cpumask *)mask))
			__sync_fetch_and_add(&report.cpumask_hits, 1);
		bpf_cpumask_release(mask);
	}

	report.text_addr = (u64)&_text;
	if (bpf_ksym_exists(ebpf_skeleton_no_such_kfunc))
		report.weak_kfunc_present = ebpf_skeleton_no_such_kfunc() + 1;
	if (bpf_ksym_exists(&ebpf_skeleton_no_such_var))
		report.weak_var_present = 1;

	seen = bpf_map_lookup_elem(&cpus, &cpu);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&cpus, &cpu, &one, BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_getppid_percpu, struct pt_regs *regs, long id)
{
	u32 cpu = bpf_get_smp_processor_id();
	const struct rq *rq;

	if (!counted(id))
		return 0;
	__sync_fetch_and_add(&report.percpu_calls, 1);
	rq = bpf_this_cpu_ptr(&runqueues);
	if (rq->cpu == cpu)
		__sync_fetch_and_add(&report.rq_cpu_matches, 1);
	return 0;
}
