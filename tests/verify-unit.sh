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
# and its exposure stays where README says (issue 10: at most 3.0)
score=$(systemd-analyze security --offline=true "$dir/ebpf-forward.service" 2>&1 |
	sed -n 's/.*Overall exposure level for ebpf-forward.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ] || ! awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
	echo "exposure ${score:-unknown}, above 3.0"
	exit 1
fi
echo "unit verified, exposure $score"
