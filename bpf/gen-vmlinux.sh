#!/bin/sh
# gen-vmlinux.sh: vmlinux.h from the running kernel's BTF, or the committed copy when there is none.
# usage: gen-vmlinux.sh BPFTOOL FALLBACK OUT
set -eu
bpftool=$1 fallback=$2 out=$3
if [ -r /sys/kernel/btf/vmlinux ] && "$bpftool" btf dump file /sys/kernel/btf/vmlinux format c > "$out.tmp" 2>/dev/null; then
	mv "$out.tmp" "$out"
else
	rm -f "$out.tmp"
	echo "gen-vmlinux: no kernel BTF here, using $fallback" >&2
	cp "$fallback" "$out"
fi
