// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Maps and programs whose settings the tests change between open and load
 * (tests/tests/settings.rs), each in a way the kernel shows.
 *
 * - `stackmap` gives no value size, as bcc's tools leave it to their C
 *   front-ends: it cannot be created until the loader sets one.
 * - `sized`, `numa`, `pinned`, `by_name`, `shared` and `outer` take a new
 *   size, flags, NUMA node, pin, pin by name, a map to reuse, and an inner
 *   map (map_extra is set on bloom.bpf.o's filter, which kernels before
 *   5.16 lack).
 * - `record_stack` stores a stack id; `read_globals` copies a constant, a
 *   kconfig value and (through CO-RE) the current pid into .bss; `retype` verifies as any type; `classify`
 *   is a `tc` program for tcx; `on_enter` is a tp_btf program whose
 *   tracepoint is chosen at run time. */
#include "common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(max_entries, 128);
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} numa SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pinned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} by_name SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} shared SEC(".maps");

/* No inner map declared: the loader gives one. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} outer SEC(".maps");

const volatile __u32 threshold = 5;
extern int CONFIG_HZ __kconfig __weak;

int stack_id = -1;
__u32 threshold_seen;
int hz_seen;
int pid_seen;
__u64 enters;

SEC("raw_tp")
int record_stack(void *ctx)
{
	stack_id = bpf_get_stackid(ctx, &stackmap, 0);
	return 0;
}

SEC("raw_tp")
int read_globals(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	threshold_seen = threshold;
	hz_seen = CONFIG_HZ;
	/* A CO-RE relocation, resolved against the kernel's BTF (or the one
	 * the loader names). */
	pid_seen = BPF_CORE_READ(task, pid);
	return 0;
}

SEC("xdp")
int retype(void *ctx)
{
	return 0;
}

SEC("tc")
int classify(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_enter")
int on_enter(void *ctx)
{
	__sync_fetch_and_add(&enters, 1);
	return 0;
}
