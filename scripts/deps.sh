#!/usr/bin/env bash
# deps.sh: installs the Debian packages the build and the tests need, only those missing.
set -euo pipefail

packages=(
	libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev libmsgpack-dev libuv1-dev libseccomp-dev
	# libcrypto's headers and its pkg-config file (SHA-512 of the Forward handshake)
	libssl-dev
	check meson ninja-build pkg-config gcc
	# tests: systemd-analyze verifies the unit; the Python Fluent client checks our receiver
	systemd python3-fluent-logger
	# tests: the Kubernetes manifests are read with PyYAML
	python3-yaml
	# the openssl trace's tests: the CLI makes their certificate (and brings libssl3), Python's ssl is a peer
	openssl python3
	# tests/package-test.sh: builds the Debian package (debian/) and checks it
	debhelper dpkg-dev fakeroot lintian
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: run as root (sudo) to install packages" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
