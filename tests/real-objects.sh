#!/usr/bin/env bash
# Checks that real-world eBPF objects expand: for every `.bpf.o` in the
# directories given, `ebpf_skeleton!` must expand into code that compiles,
# and the compiled skeleton's `Specs::new()` must open the object with
# libbpf and read every data section's initial value. Not run by CI (the
# objects are other projects', compiled locally, never committed).
#
#   tests/real-objects.sh DIR...      e.g. the objects of bcc's libbpf-tools,
#                                     libbpf-bootstrap's examples, scx's
#                                     schedulers, each built with clang
#
# Prints one line per object that fails, and the counts per directory.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -gt 0 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/real-objects"
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<EOF
[package]
name = "real-objects"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
ebpf-skeleton = { path = "$root/runtime" }

[workspace]
EOF
cp "$root/Cargo.lock" "$work/Cargo.lock"

# The module of object number $1 at path $2.
module() { printf 'o%d_%s' "$1" "$(basename "$2" .bpf.o | tr -c 'a-zA-Z0-9_\n' '_')"; }

total_fail=0
for dir in "$@"; do
	objects=("$dir"/*.bpf.o)
	expanded=()
	for i in "${!objects[@]}"; do
		object="$(realpath "${objects[$i]}")"
		printf 'ebpf_skeleton::ebpf_skeleton!("%s", module = "%s");\nfn main() {}\n' \
			"$object" "$(module "$i" "$object")" > "$work/src/main.rs"
		if out="$(cargo check -q --manifest-path "$work/Cargo.toml" 2>&1)"; then
			expanded+=("$i")
		else
			echo "does not expand: $object"
			echo "$out" | grep -E '^error' | head -3 | sed 's/^/    /'
		fi
	done
	# Every object that expanded, in one program that opens each.
	{
		for i in "${expanded[@]}"; do
			printf 'ebpf_skeleton::ebpf_skeleton!("%s", module = "%s");\n' \
				"$(realpath "${objects[$i]}")" "$(module "$i" "${objects[$i]}")"
		done
		echo 'fn main() { let mut failed = 0;'
		for i in "${expanded[@]}"; do
			m="$(module "$i" "${objects[$i]}")"
			printf 'if let Err(e) = %s::Specs::new() { failed += 1; println!("does not open: %s: {e}"); }\n' \
				"$m" "$(realpath "${objects[$i]}")"
		done
		echo 'std::process::exit(failed); }'
	} > "$work/src/main.rs"
	opened_fail=0
	if [ ${#expanded[@]} -gt 0 ]; then
		cargo run -q --manifest-path "$work/Cargo.toml"
		opened_fail=$?
	fi
	failed=$(( ${#objects[@]} - ${#expanded[@]} + opened_fail ))
	total_fail=$((total_fail + failed))
	echo "$dir: ${#objects[@]} objects, ${#expanded[@]} expand and compile, $(( ${#expanded[@]} - opened_fail )) open with Specs::new()"
done
[ "$total_fail" -eq 0 ]
