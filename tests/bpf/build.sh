#!/usr/bin/env bash
# Rebuilds every committed eBPF object from its C source with clang-19.
# Usage: tests/bpf/build.sh   (installs clang-19 and libbpf-dev with apt if missing)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v clang-19 >/dev/null || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-19 libbpf-dev linux-libc-dev >/dev/null
fi
arch_include="/usr/include/$(uname -m)-linux-gnu"
# libbpf's BPF-side headers (bpf_helpers.h, usdt.bpf.h, ...) from the
# libbpf-sys the runtime is built with, ahead of the system's: the USDT spec
# that libbpf writes must have the layout usdt.bpf.h reads (Debian 12's
# libbpf-dev 1.1 predates the layout of libbpf 1.6).
libbpf_version="$(grep -A1 '^name = "libbpf-sys"' "$root/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
libbpf_src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libbpf-sys-$libbpf_version"/libbpf/src 2>/dev/null | head -1)"
[ -n "$libbpf_src" ] || { cargo fetch --manifest-path "$root/Cargo.toml" -q && libbpf_src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libbpf-sys-$libbpf_version"/libbpf/src | head -1)"; }
libbpf_include="$(mktemp -d)"
ln -s "$libbpf_src" "$libbpf_include/bpf"
# Objects that include "vmlinux.h" get one generated from the running
# kernel's BTF (bpftool, from apt), never committed.
vmlinux_dir="$(mktemp -d)"
trap 'rm -rf "$vmlinux_dir" "$libbpf_include"' EXIT
if grep -lq '#include "vmlinux.h"' "$root"/tests/bpf/*.bpf.c; then
	command -v bpftool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpftool >/dev/null; }
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$vmlinux_dir/vmlinux.h"
fi
for src in "$root"/tests/bpf/*.bpf.c "$root"/examples/*/bpf/*.bpf.c "$root"/ui-tests/objects/*.bpf.c; do
	[ -e "$src" ] || continue
	out="${src%.c}.o"
	# -g keeps BTF (needed for maps, CO-RE and the generated types);
	# --target=bpf with -mcpu=v3 matches what the kernel here accepts.
	clang-19 -g -O2 --target=bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
		-I"$libbpf_include" -I"$arch_include" -I"$(dirname "$src")" -I"$root/tests/bpf" -I"$vmlinux_dir" \
		-Wall -Werror -c "$src" -o "$out"
	# Strip DWARF but keep BTF: smaller objects, same content for libbpf.
	llvm-strip-19 -g "$out" 2>/dev/null || true
	echo "built ${out#"$root"/}"
done

# The compile-cost benchmark's large synthetic object, from its generator.
"$root/bench/objects/large.sh"

# Objects the compile-error tests need: one built for the host, a 32-bit ELF
# header and an eBPF object cut short.
ui="$root/ui-tests/objects"
cc -c -O2 "$ui/host.c" -o "$ui/host.o" && echo "built ui-tests/objects/host.o"
{ printf '\x7fELF\x01\x01\x01'; head -c 57 /dev/zero; } > "$ui/elf32.bpf.o"
head -c 100 "$root/tests/bpf/counter.bpf.o" > "$ui/truncated.bpf.o"
echo "built ui-tests/objects/elf32.bpf.o ui-tests/objects/truncated.bpf.o"
