#!/usr/bin/env bash
# package-test.sh: builds the Debian package from a copy of the tree, installs it, checks it, purges it.
# usage: tests/package-test.sh   (as root; exit 0 passed, 1 failed, 77 skipped)
# Leaves the machine as it found it: the package purged, the account removed if this test made it,
# the copy and its build deleted. Refuses to run (skip) where an install of ebpf-forward is present.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
pkg=ebpf-forward
conf=/etc/ebpf-forward/ebpf-forward.conf
spool=/var/lib/ebpf-forward
step=start

skip() { echo "package-test: SKIP: $*"; exit 77; }
fail() { echo "package-test: FAIL ($step): $*" >&2; exit 1; }
check() { step=$1; echo "package-test: $step"; }

[ "$(id -u)" -eq 0 ] || skip "installing a package needs root"
for tool in dpkg-buildpackage dpkg-checkbuilddeps lintian fakeroot; do
	command -v "$tool" >/dev/null || fail "$tool missing: run scripts/deps.sh"
done

# Anything of an earlier install would be changed by this test: leave such a machine alone.
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed\|config-files\|unpacked'; then
	skip "package $pkg is on this machine already (dpkg -l $pkg)"
fi
for path in /usr/sbin/ebpf-forward /etc/ebpf-forward "$spool" /lib/systemd/system/ebpf-forward.service; do
	[ ! -e "$path" ] || skip "$path exists already (an install not from this test)"
done
had_user=no had_group=no
getent passwd ebpf-forward >/dev/null && had_user=yes
getent group ebpf-forward >/dev/null && had_group=yes

tmp=$(mktemp -d /tmp/package-test.XXXXXX)
installed=no
daemon_pid=
cleanup() {
	local rc=$?
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	[ "$installed" = no ] || dpkg --purge "$pkg" >/dev/null 2>&1 || true
	[ "$had_user" = yes ] || ! getent passwd ebpf-forward >/dev/null || userdel ebpf-forward || true
	[ "$had_group" = yes ] || ! getent group ebpf-forward >/dev/null || groupdel ebpf-forward || true
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT

t0=$(date +%s)

# The copy: what git tracks plus what is new and not ignored, as the working tree has it (so
# uncommitted changes are in, build directories are not). Without git, the tree less its builds.
check "copy the tree"
mkdir "$tmp/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
		if [ -e "$src/$f" ] || [ -L "$src/$f" ]; then printf '%s\0' "$f"; fi
	done | tar -C "$src" -c --null -T - | tar -C "$tmp/src" -x
else
	tar -C "$src" -c --exclude=./build --exclude='./build-*' --exclude='./obj-*' . | tar -C "$tmp/src" -x
fi

check "dpkg-buildpackage -b -us -uc"
(cd "$tmp/src" && dpkg-checkbuilddeps) || fail "build dependencies missing: run scripts/deps.sh"
(cd "$tmp/src" && dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1) || {
	tail -40 "$tmp/build.log" >&2
	fail "dpkg-buildpackage failed (log above)"
}
version=$(cd "$tmp/src" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="$tmp/${pkg}_${version}_${arch}.deb"
[ -f "$deb" ] || fail "no $deb after the build"
t_build=$(date +%s)

# Errors fail the test; warnings and infos are shown (README: Install lists the known ones).
check "lintian"
lintian --pedantic -I -E "$tmp/${pkg}_${version}_${arch}.changes" >"$tmp/lintian.txt" 2>&1 || true
grep -v 'running with root privileges' "$tmp/lintian.txt" | sed 's/^/  /' || true
if grep -q '^E: ' "$tmp/lintian.txt"; then
	fail "lintian reports errors"
fi

# Every file meson installs is in the package, where Debian 12 wants it.
check "package holds what meson installs"
builddir="$tmp/src/obj-$(dpkg-architecture -qDEB_HOST_GNU_TYPE)"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents.txt"
meson introspect --installed "$builddir" | /usr/bin/python3 -c '
import json, sys
for dest in sorted(json.load(sys.stdin).values()):
    if dest.startswith("/usr/lib/systemd/system/"):
        dest = dest[len("/usr"):]
    if dest.startswith("/usr/share/man/") and not dest.endswith(".gz"):
        dest += ".gz"
    print(dest)' >"$tmp/meson-installs.txt"
[ -s "$tmp/meson-installs.txt" ] || fail "meson introspect lists nothing installed"
while read -r want; do
	grep -qxF "$want" "$tmp/contents.txt" || fail "$want (installed by meson) is not in the package"
done <"$tmp/meson-installs.txt"
man_pages=$(grep -c '^/usr/share/man/.*\.gz$' "$tmp/contents.txt" || true)

check "dpkg -i"
installed=yes
dpkg -i "$deb" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "dpkg -i failed"; }

check "installed files"
[ -x /usr/sbin/ebpf-forward ] || fail "/usr/sbin/ebpf-forward missing"
[ -f /lib/systemd/system/ebpf-forward.service ] || fail "unit missing from /lib/systemd/system"
grep -q '^ExecStart=/usr/sbin/ebpf-forward -c /etc/ebpf-forward/ebpf-forward.conf$' \
	/lib/systemd/system/ebpf-forward.service || fail "the unit does not start /usr/sbin/ebpf-forward -c $conf"
dpkg-query -W -f='${Conffiles}\n' "$pkg" | grep -q "^ $conf " || fail "$conf is not a conffile of $pkg"
[ "$(stat -c %U "$conf")" = root ] || fail "$conf is not root's"
mode=$(stat -c %a "$conf")
[ $((8#$mode & 8#022)) -eq 0 ] || fail "$conf is mode $mode: group or others may write it"
[ "$(stat -c '%U %a' "$spool")" = "root 711" ] || fail "$spool is $(stat -c '%U %a' "$spool"), not root 711"
for page in $(grep '^/usr/share/man/.*\.gz$' "$tmp/contents.txt" || true); do
	[ -s "$page" ] || fail "man page $page missing"
	! command -v man >/dev/null || man -l "$page" >/dev/null 2>&1 || fail "man page $page does not render"
done

check "not enabled, not started"
[ ! -e /etc/systemd/system/multi-user.target.wants/ebpf-forward.service ] || fail "the unit was enabled"
! pgrep -f '^/usr/sbin/ebpf-forward( |$)' >/dev/null || fail "the installed ebpf-forward runs after install"
out=$(systemd-analyze verify --man=no /lib/systemd/system/ebpf-forward.service 2>&1) || fail "systemd-analyze verify: $out"
! printf '%s\n' "$out" | grep -q 'ebpf-forward.service' || fail "systemd-analyze verify: $out"

check "account"
entry=$(getent passwd ebpf-forward) || fail "no ebpf-forward account"
IFS=: read -r _ _ uid _ _ _ shell <<<"$entry"
[ "$uid" -lt 1000 ] || fail "ebpf-forward has uid $uid, not a system account's"
[ "$shell" = /usr/sbin/nologin ] || fail "ebpf-forward has shell $shell"

check "ebpf-forward --version"
[ "$(/usr/sbin/ebpf-forward --version)" = "ebpf-forward ${version%-*}" ] ||
	fail "--version says '$(/usr/sbin/ebpf-forward --version)', not ebpf-forward ${version%-*}"

check "ebpf-forward --check-config -c $conf"
/usr/sbin/ebpf-forward --check-config -c "$conf" || fail "the shipped configuration does not check"

# The installed daemon for real: attaches exec, drops to the package's account, prints a record of
# an exec of ours, stops on SIGTERM with 0.
check "installed daemon runs as ebpf-forward"
cat >"$tmp/run.conf" <<EOF
[SERVICE]
    Log_Level = info
[INPUT]
    Name = ebpf
    Trace = exec
[OUTPUT]
    Name = stdout
EOF
chmod 0644 "$tmp/run.conf"
/usr/sbin/ebpf-forward -c "$tmp/run.conf" >"$tmp/run.out" 2>"$tmp/run.err" &
daemon_pid=$!
for _ in $(seq 100); do
	grep -q 'running with' "$tmp/run.err" && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q 'running with' "$tmp/run.err" || { cat "$tmp/run.err" >&2; fail "the daemon did not start"; }
grep -q "running as ebpf-forward (uid $uid," "$tmp/run.err" || { cat "$tmp/run.err" >&2; fail "the daemon is not running as ebpf-forward"; }
marker="package-test-$$"
for _ in $(seq 50); do
	/bin/true "$marker"
	grep -q "\"argv1\": \"$marker\"" "$tmp/run.out" && break
	sleep 0.1
done
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
[ "$rc" -eq 0 ] || { cat "$tmp/run.err" >&2; fail "the daemon exited $rc on SIGTERM"; }
grep -q "\"argv1\": \"$marker\"" "$tmp/run.out" || { cat "$tmp/run.err" >&2; fail "no exec record of /bin/true $marker"; }

# postinst again over an existing account and spool (dpkg -i of the same version).
check "reinstall"
dpkg -i "$deb" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "second dpkg -i failed"; }

check "purge"
dpkg --purge "$pkg" >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "dpkg --purge failed"; }
installed=no
! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed\|config-files' || fail "dpkg still knows $pkg"
for path in /usr/sbin/ebpf-forward /lib/systemd/system/ebpf-forward.service /etc/ebpf-forward "$spool" \
	/var/lib/systemd/deb-systemd-helper-enabled/ebpf-forward.service.dsh-also; do
	[ ! -e "$path" ] || fail "$path is left after purge"
done
# The account stays on purge, by design (README: Install); this test removes it if it made it.
getent passwd ebpf-forward >/dev/null || fail "purge removed the ebpf-forward account"

t_end=$(date +%s)
echo "package-test: passed: $deb ($man_pages man page(s)); build $((t_build - t0)) s, all $((t_end - t0)) s"
