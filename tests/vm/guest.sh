#!/usr/bin/env bash
# Runs inside a guest booted by tests/vm/run.sh, as root:
#
#   guest.sh PLAN OUT CONFIG TIMEOUT
#
# PLAN lists the test binaries (package directory, binary, name, tab
# separated); each one's output goes to OUT/NAME.log, and OUT/done gets the
# number of binaries that failed once all have run. CONFIG is the kernel's
# config (or `none`), put where libbpf looks for it; TIMEOUT is how long one
# binary may run, in seconds.
set -uo pipefail
plan=$1 out=$2 config=$3 binary_timeout=$4
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export RUST_BACKTRACE=1

# What a booted machine has and the guest's init leaves out: bpffs, the
# loopback interface, and the kernel's config at /boot/config-RELEASE
# (the host's /boot is shared read-only, so a tmpfs goes over it).
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
[ -d /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing
ip link set lo up
if [ "$config" != none ]; then
	mount -t tmpfs tmpfs /boot
	cp "$config" "/boot/config-$(uname -r)"
fi

touch "$out/started"
echo "guest: $(uname -r), lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null || echo none)"
failed=0
while IFS=$'\t' read -r dir exe name; do
	start=$SECONDS
	(cd "$dir" && CARGO_MANIFEST_DIR=$dir exec "$exe") >"$out/$name.log" 2>&1 &
	pid=$!
	# A binary that hangs fails with where its threads are in the kernel,
	# instead of holding up every binary after it.
	while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt "$binary_timeout" ]; do
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		{
			echo "guest: $name still running after $binary_timeout s; its threads:"
			for task in /proc/"$pid"/task/*; do
				echo "--- thread $(basename "$task") ($(cat "$task/comm" 2>/dev/null)), wchan $(cat "$task/wchan" 2>/dev/null)"
				cat "$task/stack" 2>/dev/null
			done
		} >>"$out/$name.log"
		kill -9 "$pid"
	fi
	wait "$pid"
	status=$?
	[ $status = 0 ] || failed=$((failed + 1))
	printf 'guest: %s exit %d in %d s: %s\n' "$name" "$status" "$((SECONDS - start))" \
		"$(grep '^test result:' "$out/$name.log" | tail -n 1)"
done <"$plan"
echo "$failed" >"$out/done"
