#!/usr/bin/env bash
# test.sh: installs what is missing, then builds and runs every test suite, plainly and under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "test: the kernel tests load BPF programs: run as root" >&2
	exit 1
fi

status=0
run_suite() {
	local dir=$1; shift
	[ -d "$dir" ] || meson setup "$dir" "$@"
	ninja -C "$dir"
	meson test -C "$dir" --print-errorlogs || status=1
}

run_suite build --buildtype=debugoptimized -Dwerror=true
# Sanitizers: ASan and UBSan; every UBSan report is an error.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
run_suite build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true
# One closing line over both runs (a suite counts once per build).
/usr/bin/python3 scripts/test-summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json || status=1
exit $status
