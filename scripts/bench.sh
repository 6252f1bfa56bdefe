#!/usr/bin/env bash
# bench.sh: installs what is missing, builds, and runs the benchmark (bench/bench.py; its options pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized
ninja -C build
exec /usr/bin/python3 bench/bench.py "$@"
