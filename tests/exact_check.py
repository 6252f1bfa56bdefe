#!/usr/bin/python3
"""exact_check.py: the records of the e2e test, read back as README says, must give the original bytes.

usage: exact_check.py SPEC OUTPUT... ; each OUTPUT a file of JSON lines, the strict receiver's
({"tag", "record": {...}}) or the stdout output's ({"date", "tag", keys...}). SPEC lines, hex bytes:
  vfs PATH                a vfs record's path is PATH, whole
  exec FILENAME ARG...    an exec exit record: filename, and args split back to ARG... (argv1, argv_last too)
  execcut ARG1            an exec exit record cut: argv1 the first 4,095 bytes of ARG1, args its first 4,096
"""
import json
import shlex
import sys


def unescape(s):
    """The record string's escape undone: \\\\ is a backslash, \\xHH the byte HH; the rest is UTF-8."""
    b, out, i = s.encode("utf-8"), bytearray(), 0
    while i < len(b):
        if b[i] != 0x5C:
            out.append(b[i])
            i += 1
        elif b[i + 1:i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        elif b[i + 1:i + 2] == b"x":
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("lone backslash at %d of %r" % (i, s))
    return bytes(out)


def split_args(s):
    """args back to the arguments: un-escape first, then split as a POSIX shell would."""
    text = unescape(s).decode("utf-8", "surrogateescape")
    return [a.encode("utf-8", "surrogateescape") for a in shlex.split(text)]


def records(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            o = json.loads(line)
            yield o["record"] if "record" in o else o


def check(spec, path):
    recs = list(records(path))
    vfs = [r for r in recs if r.get("event_type") == "vfs"]
    exits = [r for r in recs if r.get("event_type") == "execve" and r.get("stage") == "exit"]
    fails = []
    for kind, *hexes in spec:
        want = [bytes.fromhex(h) for h in hexes]
        if kind == "vfs":
            ok = any(unescape(r["path"]) == want[0] and r["path_truncated"] is False for r in vfs)
        elif kind == "exec":
            ok = any(unescape(r["filename"]) == want[0] and split_args(r["args"]) == want[1:] and
                     unescape(r["argv1"]) == want[1] and unescape(r["argv_last"]) == want[-1] and
                     r["args_truncated"] is False and r["argc"] == len(want) for r in exits)
        elif kind == "execcut":
            ok = any(unescape(r["argv1"]) == want[0][:4095] and split_args(r["args"]) == [want[0][:4096]] and
                     r["args_truncated"] is True for r in exits)
        else:
            raise ValueError("spec line %r" % kind)
        if not ok:
            fails.append("%s: no %s record for %r" % (path, kind, [w[:80] for w in want]))
    return fails


def main():
    with open(sys.argv[1]) as f:
        spec = [l.split() for l in f if l.strip()]
    fails = []
    for path in sys.argv[2:]:
        fails += check(spec, path)
    for f in fails:
        print(f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
