#!/bin/sh
# install-user.sh: meson install step: create the unprivileged ebpf-forward account when missing.
set -eu
# Staged installs (packaging) create accounts in their own maintainer scripts.
[ -z "${DESTDIR:-}" ] || exit 0
if ! getent passwd ebpf-forward >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
		--comment "ebpf-forward daemon" ebpf-forward
	echo "created system account ebpf-forward"
fi
