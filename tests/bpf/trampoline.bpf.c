// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Programs that attach through BPF trampolines: fentry, fexit and lsm. Each
 * counts, in its own slot of `hits`, what the thread in `target` does. */
#include "common.h"

enum slot { FENTRY, FEXIT, LSM, NR_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit_if_target(__u32 slot)
{
	__u32 zero = 0, *tid = bpf_map_lookup_elem(&target, &zero);
	__u64 *value;

	if (!tid || !*tid || *tid != current_tid())
		return;
	value = bpf_map_lookup_elem(&hits, &slot);
	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("fentry/__do_sys_getppid")
int BPF_PROG(on_fentry)
{
	hit_if_target(FENTRY);
	return 0;
}

SEC("fexit/__do_sys_getppid")
int BPF_PROG(on_fexit, long ret)
{
	hit_if_target(FEXIT);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(on_file_open, void *file)
{
	hit_if_target(LSM);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
