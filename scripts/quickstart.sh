#!/usr/bin/env bash
# quickstart.sh: installs what is missing, builds, and runs the daemon on conf/quickstart.conf.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized
ninja -C build
echo "quickstart: printing exec, open, signal and bind events as JSON lines; Ctrl-C stops" >&2
exec ./build/daemon/ebpf-forward -c conf/quickstart.conf
