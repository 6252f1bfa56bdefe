#!/usr/bin/python3
"""unit_syscalls.py: the system calls a unit's SystemCallFilter= allows, one per line, groups expanded.

usage: unit_syscalls.py UNIT. The groups (@system-service...) are systemd's own, as
`systemd-analyze syscall-filter` lists them on this machine; the tests then run the
daemon under exactly that list.
"""
import subprocess
import sys


def groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    table, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = line.strip()
            table[cur] = []
        elif cur and line.strip() and not line.strip().startswith("#"):
            table[cur].append(line.strip())
    return table


def expand(name, table, seen):
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    return set().union(*(expand(m, table, seen) for m in table.get(name, [])))


def main():
    allowed, table = set(), groups()
    for line in open(sys.argv[1]):
        if line.startswith("SystemCallFilter="):
            words = line.split("=", 1)[1].split()
            if words and words[0].startswith("~"):
                sys.exit("unit_syscalls: a deny list (~) is not handled")
            for w in words:
                allowed |= expand(w, table, set())
    if not allowed:
        sys.exit("unit_syscalls: no SystemCallFilter= in %s" % sys.argv[1])
    print("\n".join(sorted(allowed)))


if __name__ == "__main__":
    main()
