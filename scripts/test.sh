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
# The Debian package: built from a copy of the tree, installed, checked, purged (exit 77: skipped).
package_rc=0
tests/package-test.sh || package_rc=$?
case $package_rc in 0) package_result=OK ;; 77) package_result=SKIP ;; *) package_result=FAIL ;; esac
printf '{"name": "package", "result": "%s"}\n' "$package_result" > build/package-test.json
# One closing line over both runs (a suite counts once per build) and the package test.
/usr/bin/python3 scripts/test-summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	build/package-test.json || status=1
exit $status
