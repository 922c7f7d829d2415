// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Types of many shapes, for the generated Rust layouts: padding, bitfields
 * (signed too), unions, anonymous members, arrays of structs, 2-D arrays,
 * char[N], bool, floats, pointers, 32- and 64-bit enums, a packed struct,
 * typedefs. `fill` writes known values into `shapes[0]`; `check` reads
 * `shapes[1]`, which the test writes, and reports what it saw. Globals in
 * .bss, .data, .rodata and custom sections exercise the section views.
 * Both are raw_tp programs, which BPF_PROG_TEST_RUN runs from Linux 5.10
 * (syscall programs need 5.14). */
#include "common.h"

enum color { RED = 1, GREEN = 2, BLUE = 4 };
enum big { BIG_ONE = 1, BIG_HUGE = 0x100000000ULL, BIG_TOP = 0xfffffffffffffff0ULL };
enum delta { DOWN = -1, LEVEL = 0, UP = 1 };

struct inner {
	__u16 a;
	__u8 b;
};

struct flags_word {
	__u32 kind : 4;
	__u32 level : 3;
	__s32 delta : 9;
	__u32 rest : 16;
	__u8 tail;
	__u64 wide_bits : 40;
	__u64 more : 24;
};

struct shapes {
	__u8 tag;
	__u64 wide;
	union {
		__u32 as_u32;
		__u8 as_bytes[4];
		struct {
			__u16 lo;
			__u16 hi;
		} halves;
	} u;
	struct {
		__u32 x;
		__u32 y;
	};
	struct inner pairs[3];
	__u16 grid[2][3];
	char name[12];
	_Bool ok;
	float ratio;
	double precise;
	enum color color;
	enum big big;
	enum delta trend;
	struct inner *next;
	struct flags_word flags;
};

struct packed_hdr {
	__u8 a;
	__u32 b;
	__u16 c;
} __attribute__((packed));

typedef struct {
	__u32 id;
	struct packed_hdr hdr;
} handle_t;

typedef __u32 tid_t;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct shapes);
} shapes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, tid_t);
	__type(value, handle_t);
} handles SEC(".maps");

/* Globals: .bss (zeroed), .data (initialised), .rodata (constant at load),
 * and custom sections. */
__u64 runs = 0;
__u64 input = 0;   /* written by the test, read by `check` */
__u64 echoed = 0;  /* `check` copies `input` here */
__u32 check_result = 0;
struct inner last_inner = {};
__u32 data_value = 17;
const volatile __u64 multiplier = 1;
const volatile enum color favourite = GREEN;
__u64 stats_hits SEC(".data.stats") = 5;
__u8 stats_flags[3] SEC(".data.stats") = { 1, 2, 3 };
const volatile __u32 limit SEC(".rodata.limits") = 100;

/* Filled in by libbpf at load from the running kernel. */
extern __u32 LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern __u64 CONFIG_NOT_A_REAL_OPTION __kconfig __weak;
__u64 kconfig_seen = 0;

SEC("raw_tp")
int fill(void *ctx)
{
	__u32 zero = 0;
	struct shapes *s = bpf_map_lookup_elem(&shapes, &zero);

	if (!s)
		return 1;
	__sync_fetch_and_add(&runs, 1);
	s->tag = 7;
	s->wide = 0x1122334455667788ULL * multiplier;
	s->u.halves.lo = 0xbeef;
	s->u.halves.hi = 0xdead;
	s->x = 10;
	s->y = 20;
	for (int i = 0; i < 3; i++) {
		s->pairs[i].a = 100 + i;
		s->pairs[i].b = i;
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++)
			s->grid[i][j] = i * 10 + j;
	__builtin_memcpy(s->name, "kernel", 7);
	s->ok = 1;
	*(__u32 *)&s->ratio = 0x3f000000;          /* 0.5f */
	*(__u64 *)&s->precise = 0x4004000000000000; /* 2.5 */
	s->color = BLUE;
	s->big = BIG_TOP;
	s->trend = DOWN;
	s->next = (void *)0xffff888000001000ULL;
	s->flags.kind = 9;
	s->flags.level = 5;
	s->flags.delta = -100;
	s->flags.rest = 0xabcd;
	s->flags.tail = 0xee;
	s->flags.wide_bits = 0x12345678ffULL;
	s->flags.more = 0x654321;
	last_inner.a = 77;
	last_inner.b = 8;
	return 0;
}

/* Reads shapes[1], written by the test: each check sets one bit. */
SEC("raw_tp")
int check(void *ctx)
{
	__u32 one = 1, r = 0;
	struct shapes *s = bpf_map_lookup_elem(&shapes, &one);

	if (!s)
		return 1;
	r |= (s->tag == 3) << 0;
	r |= (s->u.as_u32 == 0x01020304) << 1;
	r |= (s->y == 42) << 2;
	r |= (s->pairs[2].a == 555) << 3;
	r |= (s->grid[1][2] == 12) << 4;
	r |= (s->flags.kind == 3 && s->flags.level == 7) << 5;
	r |= (s->flags.delta == -5) << 6;
	r |= (s->flags.wide_bits == 0xabcdef0123ULL && s->flags.more == 0x10) << 7;
	r |= (s->big == BIG_HUGE) << 8;
	r |= (s->name[0] == 'r' && s->name[4] == 0) << 9;
	check_result = r;
	kconfig_seen = LINUX_KERNEL_VERSION + CONFIG_BPF_SYSCALL + CONFIG_HZ + CONFIG_NOT_A_REAL_OPTION;
	echoed = input * multiplier + limit;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
