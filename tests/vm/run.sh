#!/usr/bin/env bash
# Runs the kernel tests in VMs of other kernels:
#
#   tests/vm/run.sh KERNEL...     KERNEL: a series (5.10, 6.1, 6.12, 7.3),
#                                 `newest` (the newest of trixie-backports
#                                 and sid) or the path of a vmlinuz
#
# EBPF_VM_TESTS="links probes" runs only the test binaries named;
# EBPF_VM_BINARY_TIMEOUT (600 s) is how long one binary may run in a guest,
# EBPF_VM_TIMEOUT (1800 s) how long a whole guest may; EBPF_VM_ACCEL
# (`tcg,thread=single`) is qemu's -accel.
#
# Everything it needs is set up idempotently under $VM (the build
# directory's vm/): qemu-system-x86 and virtme-ng's helpers from apt,
# virtme-ng in a Python venv (PyPI), and each kernel's Debian package,
# downloaded through a private apt configuration (the machine's own sources
# are never touched) and extracted with its config and modules. The test
# binaries are built once on the host; each guest boots under TCG (KVM does
# not work on the machines this runs on) with the host's root file system
# shared read-only, runs them, and writes their output to $VM/runs/. A
# failing test, or a kernel that does not boot, fails the command.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

TARGET=${CARGO_TARGET_DIR:-$PWD/target}
VM=$TARGET/vm
GUEST_TIMEOUT=${EBPF_VM_TIMEOUT:-1800}
# How long one test binary may run in a guest before it fails.
BINARY_TIMEOUT=${EBPF_VM_BINARY_TIMEOUT:-600}
# How qemu emulates the guest's two vCPUs. Single-threaded TCG runs both on
# one host thread, taking turns, so neither can run a stale translation of
# kernel text the other has just patched. Under multi-threaded TCG (`tcg`,
# a host thread per vCPU) 7.3 guests died as that would make them: an int3
# Oops in trace_syscall_enter while one test attached a syscall tracepoint
# and another ran syscalls. Single-threaded, a kernel's whole plan takes 5 to 10
# minutes on two host cores.
ACCEL=${EBPF_VM_ACCEL:-tcg,thread=single}
# The packages whose tests load into the kernel; the others (the asm crate,
# macros, ui tests, benchmarks) do not depend on it and run on the host only.
KERNEL_PACKAGES='ebpf-skeleton ebpf-skeleton-tests execsnoop opensnoop runqlat tcpconnect pktcount'
# Test binaries of those packages that never touch the kernel and compare
# with LLVM's tools, which take minutes to start in an emulated guest.
HOST_ONLY_TESTS='relocation_names'

# qemu, and what virtme-ng needs on the host: depmod (modules.dep for the
# extracted modules), busybox (its initramfs), udevd (the guest's script
# ports), python3-venv.
install_host_tools() {
	local missing=() pkg
	for pkg in qemu-system-x86 kmod busybox-static udev python3-venv; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
	if [ ! -x "$VM/venv/bin/vng" ]; then
		say "installing virtme-ng into $VM/venv"
		mkdir -p "$VM"
		/usr/bin/python3 -m venv "$VM/venv"
		"$VM/venv/bin/pip" install -q virtme-ng
	fi
}

# apt options of the private configuration for one Debian suite: its own
# sources list, lists and cache under $VM/apt/SUITE, no installed packages.
apt_opts() {
	local dir=$VM/apt/$1
	printf '%s\n' \
		-o "Dir::Etc::SourceList=$dir/sources.list" \
		-o "Dir::Etc::SourceParts=$dir/sources.list.d" \
		-o "Dir::State::Lists=$dir/lists" \
		-o "Dir::Cache=$dir/cache" \
		-o "Dir::State::status=/dev/null" \
		-o "Debug::NoLocking=1" \
		-o "APT::Architecture=amd64"
}

# Refreshes a suite's package list when it is a day old or missing.
apt_refresh() {
	local suite=$1 dir=$VM/apt/$1
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources.list.d"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" >"$dir/sources.list"
	if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
		say "apt: package list of $suite"
		mapfile -t opts < <(apt_opts "$suite")
		apt-get "${opts[@]}" update -qq || die "cannot read Debian's $suite package list"
	fi
}

# The suites that carry a kernel series.
suites_of() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo bookworm ;;
	6.12) echo trixie ;;
	*) echo trixie-backports sid ;;
	esac
}

# Prints "suite release" of the newest amd64 kernel of series $1 (of any
# series for `newest`), its release as `uname -r` says it.
resolve_release() {
	local series=$1 suite
	for suite in $(suites_of "$series"); do
		apt_refresh "$suite"
		mapfile -t opts < <(apt_opts "$suite")
		apt-cache "${opts[@]}" search --names-only '^linux-image-[0-9].*-amd64(-unsigned)?$' |
			awk -v suite="$suite" '{ print suite, $1 }'
	done | while read -r suite pkg; do
		local rel=${pkg#linux-image-}
		rel=${rel%-unsigned}
		case $rel in *-cloud-amd64 | *-rt-amd64) continue ;; esac
		case $series in
		newest) ;;
		*) [[ $rel == "$series".* || $rel == "$series"-* || $rel == "$series"+* ]] || continue ;;
		esac
		echo "$rel $suite"
	done | sort -u -k1,1V | tail -n 1 | awk '{ print $2, $1 }'
}

# The packages holding kernel $2 of suite $1: the unsigned image, which
# older suites ship whole (boot/, lib/modules/); newer ones split it into
# the unsigned binary, its modules and its base (config, System.map), all
# under usr/lib/modules/RELEASE.
packages_of() {
	local suite=$1 rel=$2 pkg
	mapfile -t opts < <(apt_opts "$suite")
	for pkg in "linux-image-$rel-unsigned" "linux-binary-unsigned-$rel"; do
		apt-cache "${opts[@]}" show "$pkg" >/dev/null 2>&1 || continue
		case $pkg in
		linux-image-*) echo "$pkg" ;;
		*) echo "$pkg linux-modules-$rel linux-base-$rel" ;;
		esac
		return 0
	done
	die "suite $suite has no unsigned image of $rel"
}

# Downloads and extracts kernel series $1 into $VM/kernels/RELEASE with the
# layout of an installed kernel (boot/vmlinuz-RELEASE, boot/config-RELEASE,
# its modules under lib/modules or usr/lib/modules); prints the vmlinuz.
fetch_kernel() {
	local series=$1 suite rel
	read -r suite rel < <(resolve_release "$series") || true
	[ -n "${rel:-}" ] || die "no Debian amd64 kernel image of series $series (in $(suites_of "$series"))"
	local dir=$VM/kernels/$rel
	if [ ! -f "$dir/.extracted" ]; then
		local pkgs deb
		# (packages_of has said why when it fails)
		pkgs=$(packages_of "$suite" "$rel") || exit 1
		say "downloading $pkgs ($suite)"
		local dl=$VM/apt/$suite/download
		rm -rf "$dl" "$dir"
		mkdir -p "$dl" "$dir/boot"
		mapfile -t opts < <(apt_opts "$suite")
		# shellcheck disable=SC2086 # one word per package
		(cd "$dl" && apt-get "${opts[@]}" download -qq $pkgs 2>&1 | grep -v 'unsandboxed' >&2 || true)
		compgen -G "$dl/*.deb" >/dev/null || die "download of $pkgs failed"
		for deb in "$dl"/*.deb; do
			dpkg-deb -x "$deb" "$dir" || die "cannot extract $deb"
		done
		rm -rf "$dl"
		local split=$dir/usr/lib/modules/$rel
		[ ! -f "$split/vmlinuz.unsigned" ] || mv "$split/vmlinuz.unsigned" "$dir/boot/vmlinuz-$rel"
		[ ! -f "$split/config" ] || cp "$split/config" "$dir/boot/config-$rel"
		# Modules of hardware no guest has: a third of the disk a kernel takes.
		local mods
		for mods in "$dir"/lib/modules/*/kernel "$dir"/usr/lib/modules/*/kernel; do
			[ -d "$mods" ] || continue
			rm -rf "$mods"/sound "$mods"/drivers/{gpu,media,infiniband,iio,staging,usb,bluetooth,hid} "$mods"/drivers/net/wireless
		done
		touch "$dir/.extracted"
	fi
	[ -f "$dir/boot/vmlinuz-$rel" ] || die "kernel $rel has no vmlinuz in $dir/boot"
	echo "$dir/boot/vmlinuz-$rel"
}

# The kernel's config beside a vmlinuz (boot/config-RELEASE), if any.
config_of() {
	local img=$1
	local cfg
	cfg="$(dirname "$img")/config-$(basename "$img" | sed 's/^vmlinuz-//')"
	[ -f "$cfg" ] && echo "$cfg"
	return 0
}

# Kernel command line additions: the bpf LSM joins the kernel's default
# list where the config does not name it (5.10), so LSM programs attach.
cmdline_of() {
	local cfg=$1 lsm
	[ -n "$cfg" ] || return 0
	grep -q '^CONFIG_BPF_LSM=y' "$cfg" || return 0
	lsm=$(sed -n 's/^CONFIG_LSM="\(.*\)"/\1/p' "$cfg")
	[[ ,$lsm, == *,bpf,* ]] || echo "lsm=${lsm:+$lsm,}bpf"
}

# Builds the test binaries once; writes their list (package directory,
# binary, name) to $VM/plan.
build_tests() {
	say "building the test binaries"
	local pkgs=() p
	for p in $KERNEL_PACKAGES; do pkgs+=(-p "$p"); done
	cargo test --no-run "${pkgs[@]}" --message-format=json-render-diagnostics |
		/usr/bin/python3 -c '
import json, os, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
        continue
    if not msg["profile"]["test"]:
        continue
    name = msg["target"]["name"]
    kind = msg["target"]["kind"][0]
    label = name if kind == "test" else f"{name}({kind})"
    print(os.path.dirname(msg["manifest_path"]), msg["executable"], label, sep="\t")
' | awk -F '\t' -v skip=" $HOST_ONLY_TESTS " '!index(skip, " " $3 " ")' >"$VM/plan.new"
	# EBPF_VM_TESTS="links probes ..." runs only those test binaries.
	if [ -n "${EBPF_VM_TESTS:-}" ]; then
		awk -F '\t' -v keep=" $EBPF_VM_TESTS " 'index(keep, " " $3 " ")' "$VM/plan.new" >"$VM/plan.kept"
		mv "$VM/plan.kept" "$VM/plan.new"
	fi
	mv "$VM/plan.new" "$VM/plan"
	[ -s "$VM/plan" ] || die "no test binaries were built"
}

# Boots one kernel and runs the plan in it; prints the kernel's summary.
run_kernel() {
	local kernel=$1 img cfg label out
	if [ -f "$kernel" ]; then
		img=$(realpath "$kernel")
	else
		# (set -e is off in a function whose caller tests it)
		img=$(fetch_kernel "$kernel") || {
			printf 'kernel %s: no image: FAILED\n' "$kernel" | tee -a "$VM/summary"
			return 1
		}
	fi
	cfg=$(config_of "$img")
	[ -n "$cfg" ] || say "warning: no config beside $img: .kconfig externs will not resolve"
	label=$(basename "$img" | sed 's/^vmlinuz-//')
	out=$VM/runs/$label
	rm -rf "$out"
	mkdir -p "$out" "$TARGET/tmp"
	local append=()
	local extra
	extra=$(cmdline_of "$cfg")
	[ -z "$extra" ] || append=(--append "$extra")
	say "kernel $kernel ($label): booting"
	local start=$SECONDS codes attempt
	# A guest that never started its script (seen once: vng gave up after
	# 11 s with nothing on the console) is booted once more.
	for attempt in 1 2; do
		set +e
		PATH=$VM/venv/bin:$PATH timeout "$GUEST_TIMEOUT" vng --run "$img" --disable-kvm --cpus 2 --memory 4G --verbose \
			"${append[@]}" --rwdir="$out" --overlay-rwdir="$TARGET/tmp" --qemu-opts="-accel $ACCEL" \
			--exec "bash $PWD/tests/vm/guest.sh $VM/plan $out ${cfg:-none} $BINARY_TIMEOUT" \
			</dev/null 2>&1 | tee "$out/console.log" | grep --line-buffered '^guest:' >&2
		codes=("${PIPESTATUS[@]}")
		set -e
		[ ! -f "$out/started" ] && [ "$attempt" = 1 ] || break
		say "kernel $kernel ($label): the guest did not start (exit ${codes[0]}); booting again"
		tail -n 20 "$out/console.log" >&2
	done
	local secs=$((SECONDS - start))
	summarize "$kernel" "$label" "$out" "${codes[0]}" "$secs"
}

# Prints a kernel's pass/fail counts and the failing tests' output; fails
# when any test failed or the guest did not finish.
summarize() {
	local kernel=$1 label=$2 out=$3 status=$4 secs=$5
	local passed=0 failed=0 log
	for log in "$out"/*.log; do
		[ "$(basename "$log")" = console.log ] && continue
		read -r p f < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$log" | awk '{ p += $1; f += $2 } END { print p + 0, f + 0 }')
		passed=$((passed + p))
		failed=$((failed + f))
		if ! grep -q '^test result: ok' "$log"; then
			printf -- '--- %s on %s\n' "$(basename "$log" .log)" "$label" >&2
			sed -n '/^failures:$/,$p' "$log" | head -n 200 >&2
			grep -q '^test result:' "$log" || tail -n 30 "$log" >&2
		fi
	done
	local verdict=ok
	if [ ! -f "$out/done" ]; then
		verdict="guest did not finish (exit $status)"
		tail -n 40 "$out/console.log" >&2
	elif [ "$failed" -gt 0 ] || [ "$(cat "$out/done")" != 0 ]; then
		verdict=FAILED
	fi
	printf 'kernel %s (%s): %d passed, %d failed, %d s: %s\n' "$kernel" "$label" "$passed" "$failed" "$secs" "$verdict" | tee -a "$VM/summary"
	[ "$verdict" = ok ]
}

main() {
	[ $# -gt 0 ] || die "usage: tests/vm/run.sh KERNEL..."
	install_host_tools
	build_tests
	: >"$VM/summary"
	local kernel failed=0
	for kernel in "$@"; do
		run_kernel "$kernel" || failed=1
	done
	say "kernels:"
	cat "$VM/summary" >&2
	return $failed
}

main "$@"
