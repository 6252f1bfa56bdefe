#!/bin/sh
# verify-unit.sh: systemd-analyze verify on the generated unit, pointed at the built binary.
# usage: verify-unit.sh UNIT DAEMON SBINDIR
set -eu
unit=$1 daemon=$2 sbindir=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# verify wants ExecStart's binary to exist: use the one just built.
sed "s|$sbindir/ebpf-forward|$daemon|g" "$unit" > "$dir/ebpf-forward.service"
out=$(systemd-analyze verify --man=no "$dir/ebpf-forward.service" 2>&1) || { echo "$out"; exit 1; }
# verify exits 0 on some warnings: any line naming our unit is a finding.
if printf '%s\n' "$out" | grep -q 'ebpf-forward.service'; then
	echo "$out"
	exit 1
fi
echo "unit verified"
