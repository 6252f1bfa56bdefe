#!/usr/bin/python3
"""test_receiver.py: checks fwd_receiver against an independent client (Debian's python3-fluent-logger) and raw sockets.

Run: /usr/bin/python3 tests/test_receiver.py PATH_TO_fwd_receiver
It must be Debian's /usr/bin/python3: python3-fluent-logger and python3-msgpack are installed for it only.
"""
import os
import sys

if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
    # another python3 came first on PATH: it lacks Debian's fluent-logger
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

import gzip
import hashlib
import json
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import traceback

try:
    import msgpack
    from fluent import sender as fluent_sender
except ImportError as e:
    sys.exit("test_receiver: needs python3-fluent-logger and python3-msgpack (apt-get install "
             "python3-fluent-logger): %s" % e)

TIMEOUT = 10.0


class Failure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_for(pred, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def event_time(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


def now_event_time():
    t = time.time_ns()
    return event_time(t // 10**9, t % 10**9)


class Receiver:
    """One fwd_receiver process, its files, and helpers to read them."""

    def __init__(self, exe, workdir, name, transport="tcp", extra=()):
        self.name = name
        self.ready = os.path.join(workdir, name + ".ready")
        self.out = os.path.join(workdir, name + ".out")
        self.stats_path = os.path.join(workdir, name + ".stats")
        self.err_path = os.path.join(workdir, name + ".err")
        if transport == "tcp":
            listen = ["--tcp", "127.0.0.1:0"]
        else:
            self.sock_path = os.path.join(workdir, name + ".sock")
            listen = ["--unix", self.sock_path]
        self.transport = transport
        self.argv = [exe] + listen + ["--ready", self.ready, "--out", self.out,
                                      "--stats", self.stats_path] + list(extra)
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err)

        def ready():
            if self.proc.poll() is not None:
                raise Failure("%s exited with %s before it was ready: %s"
                              % (name, self.proc.returncode, self.stderr()))
            return os.path.exists(self.ready)
        wait_for(ready, "%s to write %s" % (name, self.ready))
        with open(self.ready) as f:
            line = f.read()
        expect(line.endswith("\n") and line.count("\n") == 1, "ready file is not one line: %r" % line)
        if transport == "tcp":
            self.port = int(line)
            expect(0 < self.port < 65536, "ready file holds no port: %r" % line)
        else:
            expect(line.strip() == self.sock_path, "ready file holds %r, not the socket path" % line)

    def connect(self):
        if self.transport == "tcp":
            s = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(TIMEOUT)
            s.connect(self.sock_path)
        return s

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def lines(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as f:
            text = f.read()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(l) for l in complete.splitlines()]

    def wait_lines(self, n):
        return wait_for(lambda: len(self.lines()) >= n and self.lines(),
                        "%d JSON lines from %s (have %d)" % (n, self.name, len(self.lines())))

    def stats(self):
        try:
            os.unlink(self.stats_path)
        except FileNotFoundError:
            pass
        self.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(self.stats_path), "%s to write its statistics" % self.name)
        with open(self.stats_path) as f:
            text = f.read()
        expect(text.endswith("\n") and text.count("\n") == 1, "stats file is not one line: %r" % text)
        return json.loads(text)

    def stop(self):
        """SIGTERM, expect exit status 0, return the final statistics."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("%s did not exit within %.0f s of SIGTERM" % (self.name, TIMEOUT))
        self.err.close()
        expect(rc == 0, "%s exited with %s, not 0: %s" % (self.name, rc, self.stderr()))
        with open(self.stats_path) as f:
            return json.loads(f.read())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.err.closed:
            self.err.close()


def closed_by_peer(sock, timeout=TIMEOUT):
    """True when the receiver closed the connection (EOF or reset) without sending anything."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    expect(data == b"", "the receiver sent %r instead of closing" % data)
    return True


def recv_ack(sock, timeout=TIMEOUT, nothing_after=False):
    """Reads exactly one msgpack object (the ack); with nothing_after, checks no other bytes follow soon."""
    sock.settimeout(timeout)
    unp = msgpack.Unpacker(raw=False)
    buf = b""
    while True:
        data = sock.recv(4096)
        expect(data, "the connection closed before an ack arrived")
        buf += data
        unp.feed(data)
        try:
            obj = unp.unpack()
            break
        except msgpack.OutOfData:
            continue
    expect(unp.tell() == len(buf), "extra bytes after the ack: %r" % buf[unp.tell():])
    if nothing_after:
        sock.settimeout(0.2)
        try:
            more = sock.recv(4096)
            expect(not more, "extra bytes after the ack: %r" % more)
        except socket.timeout:
            pass
    return obj, buf


def no_reply(sock, wait=0.5):
    sock.settimeout(wait)
    try:
        data = sock.recv(4096)
    except socket.timeout:
        return True
    expect(data == b"", "unexpected reply %r" % data)
    return False   # closed


# ---------------------------------------------------------------- the checks

RECORD = {
    "text": "hello",
    "count": 42,
    "delta": -7,
    "flag": True,
    "nested": {"a": 1, "list": ["x", 2, None]},
    "utf8": "héllo wörld ✓ 日本語",
}
RECORD_TYPES = {"text": "str", "count": "uint", "delta": "int", "flag": "bool", "nested": "map",
                "utf8": "str"}


def check_fluent_lines(lines, tag, n):
    expect(len(lines) == n, "expected %d lines, got %d: %r" % (n, len(lines), lines))
    now = time.time()
    for i, l in enumerate(lines):
        expect(l["tag"] == tag, "tag %r, expected %r" % (l["tag"], tag))
        expect(l["mode"] == "message", "mode %r, expected message" % l["mode"])
        expect(l["time_type"] == "eventtime", "time_type %r, expected eventtime" % l["time_type"])
        t = l["time_sec"] + l["time_nsec"] / 1e9
        expect(abs(t - now) < 1.0, "event time %.9f is not within a second of now %.3f" % (t, now))
        expect(abs(l["time"] - t) < 1e-6, "time %r does not match time_sec/time_nsec" % l["time"])
        expect(l["time_nsec"] != 0, "EventTime nanoseconds are 0: precision was lost")
        expect(l["time_nsec"] < 10**9, "nanoseconds out of range: %r" % l["time_nsec"])
        want = dict(RECORD, seq=i)
        expect(l["record"] == want, "record %r, expected %r" % (l["record"], want))
        expect(l["types"] == dict(RECORD_TYPES, seq="uint"), "types %r" % l["types"])
        expect(l["keys"] == list(want), "keys %r not in the sent order" % l["keys"])


def t_fluent_logger_tcp(ctx):
    r = ctx.receiver("fluent-tcp")
    s = fluent_sender.FluentSender("app", host="127.0.0.1", port=r.port, nanosecond_precision=True)
    try:
        for i in range(3):
            ok = s.emit("test", dict(RECORD, seq=i))
            expect(ok, "FluentSender.emit failed: %r" % s.last_error)
    finally:
        s.close()
    lines = r.wait_lines(3)
    check_fluent_lines(lines, "app.test", 3)
    st = r.stop()
    expect(st["frames"] == 3 and st["entries"] == 3 and st["rejected"] == 0,
           "stats after 3 events: %r" % st)
    expect(st["entries_by_tag"] == {"app.test": 3}, "entries_by_tag %r" % st["entries_by_tag"])
    expect(st["delay_samples"] == 3 and 0 < st["delay_p50_ns"] <= st["delay_p99_ns"] <= st["max_delay_ns"]
           < 5 * 10**9, "delay statistics %r" % st)


def t_fluent_logger_unix(ctx):
    r = ctx.receiver("fluent-unix", transport="unix")
    s = fluent_sender.FluentSender("unixapp", host="unix://" + r.sock_path, nanosecond_precision=True)
    try:
        for i in range(2):
            expect(s.emit("ev", dict(RECORD, seq=i)), "FluentSender.emit failed: %r" % s.last_error)
    finally:
        s.close()
    check_fluent_lines(r.wait_lines(2), "unixapp.ev", 2)
    st = r.stop()
    expect(st["frames"] == 2 and st["rejected"] == 0, "stats %r" % st)
    expect(not os.path.exists(r.sock_path), "the socket file is left behind after exit")


def t_fluent_logger_int_time(ctx):
    r = ctx.receiver("fluent-int")
    s = fluent_sender.FluentSender("app", host="127.0.0.1", port=r.port)   # seconds only
    try:
        expect(s.emit("int", {"k": "v"}), "FluentSender.emit failed: %r" % s.last_error)
    finally:
        s.close()
    (l,) = r.wait_lines(1)
    expect(l["time_type"] == "int" and l["time_nsec"] == 0, "int time decoded as %r" % l)
    expect(abs(l["time_sec"] - time.time()) < 2, "int time %r is not now" % l["time_sec"])
    r.stop()


# (name, bytes, word the logged reason must contain)
def garbage_cases():
    pk = msgpack.packb
    raw = msgpack.Packer(use_bin_type=False)   # bytes become msgpack str
    good_entry = pk([1700000000, {"a": 1}])
    payload = pk([1700000000, {"a": 1}]) + pk([now_event_time(), {"b": 2}])
    deep = 1
    for _ in range(40):   # msgpack-c (and so Fluent Bit) stops at 32 levels
        deep = [deep]
    deep33 = 1
    for _ in range(31):   # in an entry's record: 33 levels with the entry's array and the record's map
        deep33 = [deep33]
    return [
        ("msgpack nil", b"\xc0", "nil"),
        ("map at root", pk({"tag": "x"}), "root is a map"),
        ("int tag", pk([1, 1700000000, {"a": 1}]), "tag is not a str"),
        ("bin tag", pk([b"t", 1700000000, {"a": 1}]), "tag is not a str"),
        ("root of 1 element", pk(["t"]), "elements"),
        ("root of 5 elements", pk(["t", 1, {}, {}, {}]), "elements"),
        ("message mode without record", pk(["t", 1700000000]), "elements"),
        ("second element nil", pk(["t", None]), "nil"),
        ("float time", pk(["t", 1700000000.5, {"a": 1}]), "float"),
        ("negative time", pk(["t", -5, {"a": 1}]), "negative"),
        ("str time in entry", pk(["t", [["now", {"a": 1}]]]), "time is a str"),
        ("EventTime seconds 0xFFFFFFFF", pk(["t", event_time(0xFFFFFFFF, 0), {}]), "reserved"),
        ("EventTime seconds 0xFFFFFFFE", pk(["t", event_time(0xFFFFFFFE, 0), {}]), "reserved"),
        ("EventTime of 4 bytes", pk(["t", msgpack.ExtType(0, b"\0\0\0\1"), {}]), "not 8"),
        ("EventTime of 12 bytes", pk(["t", msgpack.ExtType(0, b"\0" * 12), {}]), "not 8"),
        ("ext type 1 time", pk(["t", msgpack.ExtType(1, b"\0" * 8), {}]), "type 1"),
        ("EventTime nsec >= 1e9", pk(["t", event_time(1700000000, 10**9), {}]), "nanoseconds"),
        ("record not a map", pk(["t", 1700000000, ["a", 1]]), "record is an array"),
        ("record int key", pk(["t", 1700000000, {1: "x"}]), "record key 1 is a uint"),
        ("record bin key", pk(["t", 1700000000, {b"k": "x"}]), "record key 1 is a bin"),
        ("forward entry of 1 element", pk(["t", [[1700000000]]]), "entry 1"),
        ("forward entry of 3 elements", pk(["t", [[1700000000, {}, {}]]]), "entry 1"),
        ("forward entry not an array", pk(["t", [{"a": 1}]]), "entry 1 is a map"),
        ("forward 2nd entry bad", pk(["t", [[1, {"a": 1}], [2, "x"]]]), "entry 2"),
        ("metadata not a map", pk(["t", [[[now_event_time(), [1]], {"a": 1}]]]), "metadata is an array"),
        ("header of 3", pk(["t", [[[now_event_time(), {}, {}], {"a": 1}]]]), "header"),
        ("forward with 4 elements", pk(["t", [], {}, {}]), "elements"),
        ("packed truncated", pk(["t", payload[:-1]]), "truncated"),
        ("packed truncated inside a header", pk(["t", good_entry + b"\x92\xd2\x00"]), "truncated"),
        ("packed truncated inside a str", pk(["t", good_entry + pk([1700000000, {"a": "xyz"}])[:-1]]), "truncated"),
        ("packed str payload truncated", raw.pack(["t", payload[:-2]]), "truncated"),
        ("packed payload of a non-entry", pk(["t", pk("hello")]), "entry 1 is a str"),
        ("packed payload with 0xc1", pk(["t", good_entry + b"\xc1"]), "0xc1"),
        ("option not a map", pk(["t", [], [1]]), "option is an array"),
        ("option nil", pk(["t", 1700000000, {"a": 1}, None]), "option is a nil"),
        ("option int key", pk(["t", [], {1: 2}]), "option key 1 is a uint"),
        ("chunk as bin", pk(["t", [], {"chunk": b"abc"}]), "chunk is a bin"),
        ("chunk as int", pk(["t", [], {"chunk": 5}]), "chunk is a uint"),
        ("compressed zstd", pk(["t", payload, {"compressed": "zstd"}]), "compressed"),
        ("compressed not a str", pk(["t", payload, {"compressed": 1}]), "compressed"),
        ("compressed on forward mode", pk(["t", [[1, {}]], {"compressed": "gzip"}]), "compressed"),
        ("gzip payload not gzip", pk(["t", payload, {"compressed": "gzip"}]), "gzip"),
        ("gzip payload truncated", pk(["t", gzip.compress(payload)[:-3], {"compressed": "gzip"}]), "gzip"),
        ("gzip with trailing garbage", pk(["t", gzip.compress(payload) + b"junk", {"compressed": "gzip"}]),
         "gzip"),
        ("gzip of a truncated payload", pk(["t", gzip.compress(payload[:-1]), {"compressed": "gzip"}]),
         "truncated"),
        ("gzip empty", pk(["t", b"", {"compressed": "gzip"}]), "empty"),
        ("size mismatch", pk(["t", [[1, {}]], {"size": 2}]), "size"),
        ("packed size mismatch", pk(["t", payload, {"size": 3}]), "size"),
        ("fluent_signal metrics", pk(["t", payload, {"fluent_signal": 1}]), "fluent_signal"),
        ("byte 0xc1", b"\xc1", "0xc1"),
        ("frame over 6,144,000 bytes (header only)", b"\x92\xa1t\xc6" + struct.pack(">I", 7000000), "exceeds"),
        ("array of 2^32-1 elements", b"\xdd\xff\xff\xff\xff", "exceeds"),
        ("map of 2^32-1 pairs in a record", b"\x93\xa1t\x01\xdf\xff\xff\xff\xff", "exceeds"),
        ("nested 40 deep", pk(["t", 1700000000, {"a": deep}]), "32"),
        # a str is UTF-8 (msgpack's spec); Fluent Bit's encoders mangle one that is not
        ("record str not UTF-8", raw.pack(["t", 1700000000, {"path": b"report-\xff\xfe.txt"}]),
         'key "path": a str that is not valid UTF-8 (byte 0xff at offset 7'),
        ("record str overlong", raw.pack(["t", 1700000000, {"s": b"\xc0\xaf"}]), 'key "s"'),
        ("record str surrogate", raw.pack(["t", 1700000000, {"s": b"\xed\xa0\x80"}]), "not valid UTF-8"),
        ("record str past U+10FFFF", raw.pack(["t", 1700000000, {"s": b"\xf4\x90\x80\x80"}]), "not valid UTF-8"),
        ("record str cut sequence", raw.pack(["t", 1700000000, {"s": b"ok\xe2\x82"}]), "offset 2"),
        ("record key not UTF-8", raw.pack(["t", 1700000000, {b"k\xff": 1}]), "key that is not valid UTF-8"),
        ("nested str not UTF-8", raw.pack(["t", 1700000000, {"m": {"x": [b"\x80"]}}]), 'key "m"'),
        ("packed entry str not UTF-8", pk(["t", raw.pack([1700000000, {"argv": b"\xff"}])]), 'key "argv"'),
        ("metadata str not UTF-8", raw.pack(["t", [[[now_event_time(), {"m": b"\xfe"}], {"a": 1}]]]),
         "metadata"),
        ("tag not UTF-8", raw.pack([b"t\xff", 1700000000, {"a": 1}]), "tag"),
    ] + [
        # the entry checks again in a PackedForward payload, after a good entry: the fast check
        # (recv_quick.c) reads these, and must leave each to the full check
        ("packed " + name, pk(["t", good_entry + raw.pack(entry)]), word) for name, entry, word in [
            ("float time", [1700000000.5, {"a": 1}], "float"),
            ("negative time", [-5, {"a": 1}], "negative"),
            ("str time", ["now", {"a": 1}], "time is a str"),
            ("nil time", [None, {"a": 1}], "time is a nil"),
            ("EventTime seconds 0xFFFFFFFF", [event_time(0xFFFFFFFF, 0), {}], "reserved"),
            ("EventTime seconds 0xFFFFFFFE", [event_time(0xFFFFFFFE, 0), {}], "reserved"),
            ("EventTime of 4 bytes", [msgpack.ExtType(0, b"\0\0\0\1"), {}], "not 8"),
            ("EventTime of 12 bytes", [msgpack.ExtType(0, b"\0" * 12), {}], "not 8"),
            ("ext type 1 time", [msgpack.ExtType(1, b"\0" * 8), {}], "type 1"),
            ("EventTime nsec 1e9", [event_time(1700000000, 10**9), {}], "nanoseconds"),
            ("record not a map", [1700000000, ["a", 1]], "record is an array"),
            ("record nil", [1700000000, None], "record is a nil"),
            ("record int key", [1700000000, {"a": 1, 1: "x"}], "record key 2 is a uint"),
            ("entry of 1 element", [1700000000], "entry 2"),
            ("entry of 3 elements", [1700000000, {}, {}], "entry 2"),
            ("metadata not a map", [[now_event_time(), [1]], {"a": 1}], "metadata is an array"),
            ("metadata int key", [[now_event_time(), {7: 1}], {"a": 1}], "metadata key 1 is a uint"),
            ("header of 3", [[now_event_time(), {}, {}], {"a": 1}], "header"),
            ("header of 1", [[now_event_time()], {"a": 1}], "header"),
            ("str not UTF-8", [1700000000, {"ok": "fine", "path": b"r-\xff"}], 'key "path"'),
            ("key not UTF-8", [1700000000, {b"k\xff": 1}], "key that is not valid UTF-8"),
            ("nested str not UTF-8", [1700000000, {"m": {"x": [b"\x80"]}}], 'key "m"'),
            ("nested key not UTF-8", [1700000000, {"m": {b"\xc0\xaf": 1}}], 'key "m"'),
            ("metadata str not UTF-8", [[now_event_time(), {"m": b"\xfe"}], {"a": 1}], "metadata"),
            ("nested 40 deep", [1700000000, {"a": deep}], "32"),
            ("nested 33 deep", [1700000000, {"a": deep33}], "32"),
        ]
    ] + [
        # written by hand: an ext 8 (not fixext 4) EventTime of 4 bytes, and one of 9
        ("packed ext 8 EventTime of 4 bytes", pk(["t", good_entry + b"\x92\xc7\x04\x00" + b"\0" * 4 + b"\x80"]),
         "not 8"),
        ("packed ext 8 EventTime of 9 bytes", pk(["t", good_entry + b"\x92\xc7\x09\x00" + b"\0" * 9 + b"\x80"]),
         "not 8"),
    ]


def t_garbage_rejected(ctx):
    garbage_rejected(ctx, "garbage", [])


def t_garbage_rejected_count_only(ctx):
    # --count-only (the benchmark's mode) takes the fast check (recv_quick.c) first: the same frames are
    # refused, for the same reasons
    garbage_rejected(ctx, "garbage-count", ["--count-only"])


def garbage_rejected(ctx, name, extra):
    r = ctx.receiver(name, extra=extra)
    cases = garbage_cases()
    for i, (name, data, word) in enumerate(cases, 1):
        s = r.connect()
        s.sendall(data)
        expect(closed_by_peer(s), "%s: the connection was not closed" % name)
        s.close()
        st = r.stats()
        expect(st["rejected"] == i, "%s: rejected is %d, expected %d" % (name, st["rejected"], i))
        expect(word in st["last_reject"], "%s: reason %r does not mention %r" % (name, st["last_reject"], word))
        expect(st["last_reject"].startswith("conn %d: frame 1: " % i),
               "%s: reason %r does not name the connection and frame" % (name, st["last_reject"]))
    st = r.stop()
    expect(st["frames"] == 0 and st["entries"] == 0, "garbage was accepted: %r" % st)
    expect(r.lines() == [], "garbage produced output lines: %r" % r.lines())
    log = [l for l in r.stderr().splitlines() if ": frame " in l]
    expect(len(log) == len(cases), "expected %d reject lines on stderr, got %d" % (len(cases), len(log)))


def t_good_then_bad_same_connection(ctx):
    r = ctx.receiver("goodbad")
    s = r.connect()
    s.sendall(msgpack.packb(["ok", now_event_time(), {"n": 1}]) + msgpack.packb(["ok", 1.5, {"n": 2}]) +
              msgpack.packb(["ok", now_event_time(), {"n": 3}]))
    expect(closed_by_peer(s), "the connection was not closed on the bad second frame")
    s.close()
    st = r.stop()
    expect(st["frames"] == 1 and st["rejected"] == 1, "stats %r" % st)
    expect("frame 2: " in st["last_reject"], "the bad frame is not named frame 2: %r" % st["last_reject"])
    lines = r.lines()
    expect([l["record"]["n"] for l in lines] == [1], "lines %r" % lines)


def t_rejected_frame_writes_nothing(ctx):
    r = ctx.receiver("allornothing")
    s = r.connect()
    s.sendall(msgpack.packb(["t", [[1, {"n": 1}], [2, {"n": 2}], [3, {5: "bad key"}]], {"chunk": "c1"}]))
    expect(closed_by_peer(s), "not closed")
    s.close()
    st = r.stop()
    expect(st["entries"] == 0 and st["acks"] == 0, "a rejected frame left entries or an ack: %r" % st)
    expect(r.lines() == [], "a rejected frame left lines: %r" % r.lines())


def t_split_and_coalesced_frames(ctx):
    r = ctx.receiver("split")
    s = r.connect()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    frame = msgpack.packb(["split", [[now_event_time(), {"msg": "x" * 300, "i": i}] for i in range(5)]])
    for i in range(0, len(frame), 7):      # a frame over many reads
        s.sendall(frame[i:i + 7])
        time.sleep(0.001)
    many = b"".join(msgpack.packb(["many", now_event_time(), {"i": i}]) for i in range(200))
    s.sendall(many)                         # many frames in few reads
    lines = r.wait_lines(205)
    s.close()
    st = r.stop()
    expect(st["frames"] == 201 and st["entries"] == 205 and st["rejected"] == 0, "stats %r" % st)
    expect([l["record"]["i"] for l in lines if l["tag"] == "many"] == list(range(200)), "order lost")
    expect(all(l["record"]["msg"] == "x" * 300 for l in lines if l["tag"] == "split"), "split frame damaged")


def t_modes_and_types(ctx):
    r = ctx.receiver("modes")
    s = r.connect()
    et = now_event_time()
    raw = msgpack.Packer(use_bin_type=False)
    entries = [msgpack.packb([et, {"p": i}]) for i in range(3)]
    s.sendall(msgpack.packb(["fw", [[et, {"a": 1}], [[et, {"m": "meta"}], {"b": 2}]], {"size": 2}]))
    s.sendall(msgpack.packb(["pk", b"".join(entries), {"size": 3, "fluent_signal": 0}]))
    s.sendall(raw.pack(["pkstr", b"".join(entries)]))
    s.sendall(msgpack.packb(["empty", []]))
    s.sendall(msgpack.packb(["types", et, {
        "u": 1, "big": 2**64 - 1, "i": -(2**63), "f": 1.5, "f0": 2.0, "b": False, "bin": b"\x00ok",
        "nil": None, "arr": [1, "two"], "map": {"k": {"deep": True}}, "ctl": "tab\there \"q\" \\ \x01",
    }]))
    s.sendall(raw.pack(["goodutf8", et, {"good": "€ 日本語 😀".encode(), "ctl": b"\x01\x7f"}]))
    s.sendall(msgpack.packb(["dup", et, {"k": 1}]).replace(b"\x81\xa1k\x01", b"\x82\xa1k\x01\xa1k\x02"))
    lines = r.wait_lines(2 + 3 + 3 + 1 + 1 + 1)
    by = {}
    for l in lines:
        by.setdefault(l["tag"], []).append(l)
    expect([l["mode"] for l in by["fw"]] == ["forward"] * 2, "forward mode lines %r" % by["fw"])
    expect(by["fw"][1]["metadata"] == {"m": "meta"} and by["fw"][1]["record"] == {"b": 2},
           "[[time, metadata], record] decoded as %r" % by["fw"][1])
    expect([l["record"]["p"] for l in by["pk"]] == [0, 1, 2] and by["pk"][0]["mode"] == "packed",
           "PackedForward bin payload %r" % by["pk"])
    expect([l["record"]["p"] for l in by["pkstr"]] == [0, 1, 2], "PackedForward str payload %r" % by["pkstr"])
    (t,) = by["types"]
    expect(t["types"] == {"u": "uint", "big": "uint", "i": "int", "f": "float", "f0": "float", "b": "bool",
                          "bin": "bin", "nil": "nil", "arr": "array", "map": "map", "ctl": "str"},
           "types %r" % t["types"])
    rec = t["record"]
    expect(rec["big"] == 2**64 - 1 and rec["i"] == -(2**63) and rec["f"] == 1.5, "numbers %r" % rec)
    expect(isinstance(rec["f0"], float), "float 2.0 written as %r" % rec["f0"])
    expect(rec["bin"] == "\x00ok" and rec["nil"] is None and rec["arr"] == [1, "two"], "values %r" % rec)
    expect(rec["ctl"] == "tab\there \"q\" \\ \x01", "escaping %r" % rec["ctl"])
    (b,) = by["goodutf8"]
    expect(b["record"]["good"] == "€ 日本語 😀" and b["record"]["ctl"] == "\x01\x7f",
           "valid UTF-8 not passed as it is: %r" % b["record"])
    (d,) = by["dup"]
    expect(d["keys"] == ["k", "k"], "duplicate keys not kept in 'keys': %r" % d["keys"])
    s.close()
    st = r.stop()
    expect(st["frames"] == 7 and st["rejected"] == 0, "stats %r" % st)
    expect(st["entries_by_tag"].get("empty") == 0, "an empty Forward frame is not counted: %r" % st)


def t_acks(ctx):
    r = ctx.receiver("acks")
    s = r.connect()
    et = now_event_time()
    payload = msgpack.packb([et, {"a": 1}]) + msgpack.packb([et, {"a": 2}])
    frames = [
        ("message", msgpack.packb(["ack", et, {"m": 1}, {"chunk": "bWVzc2FnZS1tb2RlLWNodW5r"}])),
        ("forward", msgpack.packb(["ack", [[et, {"f": 1}]], {"chunk": "Zm9yd2FyZA==", "size": 1}])),
        ("packed", msgpack.packb(["ack", payload, {"chunk": "cGFja2Vk", "size": 2}])),
        ("compressed", msgpack.packb(["ack", gzip.compress(payload), {"chunk": "Z3ppcA==",
                                                                      "compressed": "gzip"}])),
        ("long chunk", msgpack.packb(["ack", [[et, {"l": 1}]], {"chunk": "L" * 300}])),
    ]
    for name, f in frames:
        chunk = msgpack.unpackb(f)[-1]["chunk"]
        s.sendall(f)
        obj, wire = recv_ack(s, nothing_after=True)
        expect(obj == {"ack": chunk}, "%s: ack %r, expected {'ack': %r}" % (name, obj, chunk))
        expect(wire == msgpack.packb({"ack": chunk}), "%s: ack bytes %r" % (name, wire))
    s.sendall(msgpack.packb(["noack", et, {"x": 1}]))   # no chunk: no answer
    expect(no_reply(s), "the connection closed after a frame without chunk")
    s.sendall(msgpack.packb(["noack", et, {"x": 2}, {"chunk": "bGFzdA=="}]))
    obj, _ = recv_ack(s)
    expect(obj == {"ack": "bGFzdA=="}, "ack %r" % obj)
    s.close()
    st = r.stop()
    expect(st["acks"] == 6 and st["frames"] == 7, "stats %r" % st)


def t_gzip(ctx):
    r = ctx.receiver("gzip")
    s = r.connect()
    et = now_event_time()
    entries = [msgpack.packb([et, {"z": i, "pad": "p" * 100}]) for i in range(6)]
    one = gzip.compress(b"".join(entries[:2]))
    multi = gzip.compress(b"".join(entries[2:4])) + gzip.compress(entries[4]) + gzip.compress(entries[5])
    s.sendall(msgpack.packb(["gz", one, {"compressed": "gzip", "size": 2}]))
    s.sendall(msgpack.packb(["gz", multi, {"compressed": "gzip", "size": 4}]))
    lines = r.wait_lines(6)
    expect([l["record"]["z"] for l in lines] == list(range(6)), "gzip entries %r" % lines)
    expect(all(l["mode"] == "compressed" and l["time_type"] == "eventtime" for l in lines), "modes %r" % lines)
    s.close()
    st = r.stop()
    expect(st["frames"] == 2 and st["entries"] == 6 and st["rejected"] == 0, "stats %r" % st)


def t_frame_limit(ctx):
    limit = 1000
    r = ctx.receiver("limit", extra=["--max-frame", str(limit)])
    base = msgpack.packb(["t", 1700000000, {"a": ""}])
    exact = msgpack.packb(["t", 1700000000, {"a": "x" * (limit - len(base) - 2)}])   # str16 header: +2 bytes
    expect(len(exact) == limit, "test bug: frame of %d bytes" % len(exact))
    s = r.connect()
    s.sendall(exact)
    r.wait_lines(1)
    over = msgpack.packb(["t", 1700000000, {"a": "x" * (limit - len(base) - 1)}])
    expect(len(over) == limit + 1, "test bug: frame of %d bytes" % len(over))
    s.sendall(over)
    expect(closed_by_peer(s), "a frame of limit+1 bytes was not rejected")
    s.close()
    bomb = gzip.compress(msgpack.packb([1700000000, {"a": "x" * 5000}]))
    expect(len(bomb) < limit, "test bug: compressed %d bytes" % len(bomb))
    s = r.connect()
    s.sendall(msgpack.packb(["t", bomb, {"compressed": "gzip"}]))
    expect(closed_by_peer(s), "a payload that inflates past the limit was not rejected")
    s.close()
    st = r.stop()
    expect(st["frames"] == 1 and st["rejected"] == 2, "stats %r" % st)
    expect("decompressed" in st["last_reject"], "reason %r" % st["last_reject"])


def t_truncated_at_eof(ctx):
    r = ctx.receiver("eof")
    s = r.connect()
    f = msgpack.packb(["t", now_event_time(), {"a": 1}])
    s.sendall(f + f[:-3])
    r.wait_lines(1)
    s.close()
    wait_for(lambda: r.stats()["truncated"] == 1, "the truncated frame to be counted")
    st = r.stop()
    expect(st["frames"] == 1 and st["rejected"] == 0, "stats %r" % st)


def t_count_only(ctx):
    r = ctx.receiver("count", extra=["--count-only"])
    s = r.connect()
    et = now_event_time()
    payload = b"".join(msgpack.packb([et, {"i": i}]) for i in range(1000))
    for _ in range(5):
        s.sendall(msgpack.packb(["bench", payload, {"chunk": "Y291bnQ="}]))
        recv_ack(s)
    s.close()
    st = r.stop()
    expect(st["entries"] == 5000 and st["frames"] == 5, "stats %r" % st)
    expect(st["delay_samples"] == 5000 and st["delay_p99_ns"] > 0, "delay stats %r" % st)
    expect(r.lines() == [], "--count-only wrote lines")


def varied_frames(marker):
    """Valid entries of every kind: in JSON mode, what the fast check passes must read the same in the full check.

    Two payloads: the first of entries the fast check reads itself; the second of entries it leaves to the
    full check (nested deeper than it goes, a time in a signed form), which in --count-only then takes
    the whole frame.
    """
    raw = msgpack.Packer(use_bin_type=True)
    et = now_event_time()
    ents = [
        [1700000000, {"a": 1, marker: "a key is not searched"}],
        [0, {"v": "abc"}],
        [2**32 + 5, {"big": 2**64 - 1, "neg": -2**63, "f": 1.5, "x": msgpack.ExtType(5, b"1234")}],
        [et, {"s": "x" * 31, "s8": "y" * 200, "s16": "z" * 70000, "u": "h\u00e9 \u4e2d \U0001f600"}],
        [et, {"nest": {"k": [1, "two", {3: b"bin", None: True}], "mk": marker}, "nil": None, "f": False}],
        [[et, {"m": marker, "n": {"deep": ["x"]}}], {"after": "only the metadata has it"}],
        [[et, {}], {"comm": "pre-" + marker + "-post"}],
        [et, {"first": "no", "second": marker, "third": marker}],
        [msgpack.ExtType(0, struct.pack(">II", 1700000000, 999999999)), {"b": b"\xff\xfe"}],
        [et, {"deep": [[[[[["six"]]]]]]}],
        [et, {"k%d" % i: i for i in range(40)}],
    ]
    # an ext 8 (not fixext 8) EventTime: the same EventTime to msgpack-c
    ext8 = b"\x92\xc7\x08\x00" + struct.pack(">II", 1700000001, 5) + raw.pack({"ext8": marker})
    first = b"".join(raw.pack(e) for e in ents) + ext8
    # a signed form of a non-negative time, which msgpack-c reads as a uint
    signed = b"\x92\xd2\x00\x00\x00\x07" + raw.pack({"signed": marker})
    second = raw.pack([et, {"deeper": [[[[[[[[[[["eleven"]]]]]]]]]]]}]) + signed
    # matched: entries 7, 8 and the ext8 one of the first; the signed one of the second
    return [(first, len(ents) + 1, 3), (second, 2, 1)]


def t_varied_entries_both_modes(ctx):
    frames = varied_frames("MARK")
    for name, extra in (("varied-json", []), ("varied-count", ["--count-only"])):
        r = ctx.receiver(name, extra=extra + ["--count-match", "MARK"])
        s = r.connect()
        for i, (data, n, _) in enumerate(frames):
            s.sendall(msgpack.packb(["varied", data, {"chunk": "dmFyaWVk%d" % i, "size": n}]))
            recv_ack(s)
        s.close()
        st = r.stop()
        n, matched = sum(f[1] for f in frames), sum(f[2] for f in frames)
        expect(st["entries"] == n and st["frames"] == 2 and st["rejected"] == 0, "%s: stats %r" % (name, st))
        expect(st["matched"] == matched, "%s: matched %r, expected %d" % (name, st["matched"], matched))


def t_no_ack(ctx):
    r = ctx.receiver("noack", extra=["--no-ack"])
    s = r.connect()
    s.sendall(msgpack.packb(["t", now_event_time(), {"a": 1}, {"chunk": "bm8="}]))
    expect(no_reply(s), "--no-ack closed the connection")
    s.sendall(msgpack.packb(["t", now_event_time(), {"a": 2}, {"chunk": "bm8y"}]))
    r.wait_lines(2)
    expect(no_reply(s, 0.3), "--no-ack closed the connection")
    s.close()
    st = r.stop()
    expect(st["acks"] == 0 and st["frames"] == 2, "stats %r" % st)


def t_wrong_ack(ctx):
    r = ctx.receiver("wrongack", extra=["--wrong-ack"])
    s = r.connect()
    for chunk in ["QUJD", "AAAA", ""]:
        s.sendall(msgpack.packb(["t", now_event_time(), {"a": 1}, {"chunk": chunk}]))
        obj, _ = recv_ack(s)
        expect(isinstance(obj, dict) and list(obj) == ["ack"] and isinstance(obj["ack"], str),
               "--wrong-ack answer %r is not {'ack': str}" % obj)
        expect(obj["ack"] != chunk, "--wrong-ack answered the right id %r" % chunk)
        if chunk:
            expect(len(obj["ack"]) == len(chunk), "--wrong-ack changed the length: %r" % obj)
    s.close()
    r.stop()


def t_close_after(ctx):
    r = ctx.receiver("closeafter", extra=["--close-after", "2"])
    s = r.connect()
    frames = [msgpack.packb(["t", now_event_time(), {"n": i}, {"chunk": "c%d" % i}]) for i in range(3)]
    s.sendall(frames[0])
    obj, _ = recv_ack(s)
    expect(obj == {"ack": "c0"}, "first ack %r" % obj)
    s.sendall(frames[1] + frames[2])
    expect(closed_by_peer(s), "--close-after 2 did not close after the 2nd frame")
    s.close()
    s = r.connect()   # a new connection starts its own count
    s.sendall(frames[0])
    obj, _ = recv_ack(s)
    expect(obj == {"ack": "c0"}, "ack on a new connection %r" % obj)
    s.close()
    st = r.stop()
    expect(st["frames"] == 3 and st["acks"] == 2, "stats %r" % st)
    expect([l["record"]["n"] for l in r.lines()] == [0, 1, 0], "lines %r" % r.lines())


def t_refuse(ctx):
    r = ctx.receiver("refuse", extra=["--refuse"])
    for _ in range(2):
        s = r.connect()
        try:
            s.sendall(msgpack.packb(["t", now_event_time(), {"a": 1}]))
        except (BrokenPipeError, ConnectionResetError):
            pass
        expect(closed_by_peer(s), "--refuse kept the connection open")
        s.close()
    st = r.stop()
    expect(st["refused"] == 2 and st["connections"] == 2 and st["frames"] == 0, "stats %r" % st)


def t_exit_after_frames(ctx):
    r = ctx.receiver("exitafter", extra=["--exit-after-frames", "2"])
    s = r.connect()
    for i in range(2):
        s.sendall(msgpack.packb(["t", now_event_time(), {"n": i}]))
    try:
        rc = r.proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("--exit-after-frames 2 did not exit")
    s.close()
    expect(rc == 0, "--exit-after-frames exited with %s" % rc)
    with open(r.stats_path) as f:
        st = json.load(f)
    expect(st["frames"] == 2, "stats %r" % st)
    expect(len(r.lines()) == 2, "lines %r" % r.lines())


def t_stop_reading(ctx):
    r = ctx.receiver("stopread", extra=["--stop-reading-after", "1"])
    s = r.connect()
    s.sendall(msgpack.packb(["t", now_event_time(), {"n": 0}, {"chunk": "Zmlyc3Q="}]))
    obj, _ = recv_ack(s)
    expect(obj == {"ack": "Zmlyc3Q="}, "ack of the frame before the stop %r" % obj)
    big = msgpack.packb(["t", [[now_event_time(), {"pad": "p" * 60000}]]])
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + TIMEOUT
    full = False
    rest = b""
    while time.monotonic() < deadline and sent < 10000:
        try:
            n = s.send(big)
        except BlockingIOError:
            full = True
            break
        sent += 1
        if n < len(big):           # the socket filled inside this frame: finish it later
            rest = big[n:]
            full = True
            break
    expect(full, "the sender's socket never filled (%d frames sent)" % sent)
    # stays open while stopped
    st = r.stats()
    expect(st["paused"] and st["frames"] == 1 and st["active_connections"] == 1, "stats while stopped %r" % st)
    r.proc.send_signal(signal.SIGUSR2)
    s.setblocking(True)
    s.settimeout(TIMEOUT)
    s.sendall(rest + big)
    sent += 1
    wait_for(lambda: r.stats()["frames"] == 1 + sent, "all %d frames after SIGUSR2" % sent)
    s.close()
    st = r.stop()
    expect(st["rejected"] == 0 and not st["paused"], "stats %r" % st)


def t_many_connections(ctx):
    r = ctx.receiver("many")
    socks = [r.connect() for _ in range(50)]
    for i, s in enumerate(socks):
        s.sendall(msgpack.packb(["conc", now_event_time(), {"c": i}, {"chunk": "k%d" % i}]))
    for i, s in enumerate(socks):
        obj, _ = recv_ack(s)
        expect(obj == {"ack": "k%d" % i}, "ack on connection %d: %r" % (i, obj))
    st = r.stats()
    expect(st["active_connections"] == 50 and st["connections"] == 50, "stats %r" % st)
    for s in socks:
        s.close()
    st = r.stop()
    expect(st["frames"] == 50, "stats %r" % st)


# ---- the shared-key handshake: python3-fluent-logger has no shared key, so a tiny client by the spec ----

def sha512_hex(*parts):
    h = hashlib.sha512()
    for p in parts:
        h.update(p)
    return h.hexdigest()


def read_one(sock, timeout=TIMEOUT):
    """One msgpack object, bytes kept as bytes (the nonce and salt are raw bytes in a str); None on EOF."""
    sock.settimeout(timeout)
    unp = msgpack.Unpacker(raw=True)
    while True:
        try:
            data = sock.recv(4096)
        except ConnectionResetError:
            return None
        if not data:
            return None
        unp.feed(data)
        try:
            return unp.unpack()
        except msgpack.OutOfData:
            continue


def read_helo(sock):
    helo = read_one(sock)
    expect(isinstance(helo, list) and len(helo) == 2 and helo[0] == b"HELO", "not a HELO: %r" % (helo,))
    opts = helo[1]
    expect(set(opts) >= {b"nonce", b"auth"}, "HELO options %r" % (opts,))
    expect(len(opts[b"nonce"]) == 16 and len(opts[b"auth"]) == 16, "HELO nonce/auth not 16 bytes: %r" % (opts,))
    return opts[b"nonce"], opts[b"auth"]


def ping(sock, nonce, auth, key, host=b"py-client", salt=None, user=b"", password=b""):
    """Sends the PING the spec describes; returns the salt used."""
    salt = salt if salt is not None else os.urandom(16)
    pw = sha512_hex(auth, user, password).encode() if user else b""
    sock.sendall(msgpack.packb([b"PING", host, salt, sha512_hex(salt, host, nonce, key).encode(), user, pw],
                               use_bin_type=False))
    return salt


def t_handshake(ctx):
    r = ctx.receiver("hs", extra=["--shared-key", "k3y", "--self-hostname", "fb-test"])
    s = r.connect()
    nonce, auth = read_helo(s)
    salt = ping(s, nonce, auth, b"k3y")
    pong = read_one(s)
    expect(isinstance(pong, list) and len(pong) == 5 and pong[:4] == [b"PONG", True, b"", b"fb-test"],
           "PONG %r" % (pong,))
    expect(pong[4] == sha512_hex(salt, b"fb-test", nonce, b"k3y").encode(), "PONG digest %r is not the key's" % pong[4])
    # then frames as usual, acked
    s.sendall(msgpack.packb(["after", now_event_time(), {"a": 1}, {"chunk": "aGFuZHNoYWtl"}]))
    obj, _ = recv_ack(s)
    expect(obj == {"ack": "aGFuZHNoYWtl"}, "ack %r" % obj)
    s.close()
    # nonces differ per connection
    s2 = r.connect()
    nonce2, _ = read_helo(s2)
    expect(nonce2 != nonce, "the same nonce twice")
    s2.close()
    st = r.stop()
    expect(st["auth_ok"] == 1 and st["entries"] == 1 and st["rejected"] == 0, "stats %r" % st)


def t_handshake_wrong_key(ctx):
    r = ctx.receiver("hswrong", extra=["--shared-key", "k3y"])
    s = r.connect()
    nonce, auth = read_helo(s)
    ping(s, nonce, auth, b"not-k3y")
    expect(read_one(s) is None, "an answer to a wrong key (Fluent Bit closes without one)")
    s.close()
    r2 = ctx.receiver("hswrong2", extra=["--shared-key", "k3y", "--pong-on-mismatch"])
    s = r2.connect()
    nonce, auth = read_helo(s)
    ping(s, nonce, auth, b"not-k3y")
    pong = read_one(s)
    expect(pong == [b"PONG", False, b"shared key mismatch", b"", b""], "PONG %r" % (pong,))
    expect(read_one(s) is None, "still open after a refusal")
    st = r.stop()
    expect(st["auth_failed"] == 1 and st["auth_ok"] == 0 and st["entries"] == 0, "stats %r" % st)


def t_handshake_frames_first(ctx):
    r = ctx.receiver("hsfirst", extra=["--shared-key", "k3y"])
    # a frame instead of a PING
    s = r.connect()
    read_helo(s)
    s.sendall(msgpack.packb(["early", now_event_time(), {"a": 1}]))
    expect(read_one(s) is None, "a frame before the PING got an answer")
    s.close()
    # a PING with a frame right behind it, before the PONG could have been read
    s = r.connect()
    nonce, auth = read_helo(s)
    salt = os.urandom(16)
    host = b"py-client"
    s.sendall(msgpack.packb([b"PING", host, salt, sha512_hex(salt, host, nonce, b"k3y").encode(), b"", b""],
                            use_bin_type=False) + msgpack.packb(["early", now_event_time(), {"a": 1}]))
    expect(read_one(s) is None, "frames before the PONG were taken")
    s.close()
    st = r.stop()
    expect(st["entries"] == 0 and st["frames"] == 0 and st["auth_failed"] == 2, "stats %r" % st)


def t_handshake_users(ctx):
    r = ctx.receiver("hsuser", extra=["--shared-key", "k3y", "--username", "alice", "--password", "wonderland"])
    for user, password, ok in [(b"alice", b"wonderland", True), (b"alice", b"nope", False), (b"", b"", False),
                               (b"bob", b"wonderland", False)]:
        s = r.connect()
        nonce, auth = read_helo(s)
        ping(s, nonce, auth, b"k3y", user=user, password=password)
        pong = read_one(s)
        if ok:
            expect(pong[:2] == [b"PONG", True], "%r: PONG %r" % (user, pong))
        else:
            expect(pong == [b"PONG", False, b"username/password mismatch", b"", b""], "%r: PONG %r" % (user, pong))
        s.close()
    st = r.stop()
    expect(st["auth_ok"] == 1 and st["auth_failed"] == 3, "stats %r" % st)


def t_handshake_misbehaving(ctx):
    r = ctx.receiver("hswp", extra=["--shared-key", "k3y", "--wrong-pong"])
    s = r.connect()
    nonce, auth = read_helo(s)
    salt = ping(s, nonce, auth, b"k3y")
    pong = read_one(s)
    expect(pong[:4] == [b"PONG", True, b"", b"fwd-receiver"], "PONG %r" % (pong,))
    expect(len(pong[4]) == 128 and pong[4] != sha512_hex(salt, b"fwd-receiver", nonce, b"k3y").encode(),
           "--wrong-pong sent the right digest")
    s.close()
    r2 = ctx.receiver("hsrefuse", extra=["--shared-key", "k3y", "--refuse-auth"])
    s = r2.connect()
    nonce, auth = read_helo(s)
    ping(s, nonce, auth, b"k3y")
    pong = read_one(s)
    expect(pong == [b"PONG", False, b"refused by fwd_receiver --refuse-auth", b"", b""], "PONG %r" % (pong,))
    s.close()
    r3 = ctx.receiver("hsbin", extra=["--shared-key", "k3y", "--helo-bin"])
    s = r3.connect()
    s.settimeout(TIMEOUT)
    raw = s.recv(4096)
    expect(raw.startswith(b"\x92\xa4HELO\x83\xa5nonce\xc4\x10"), "--helo-bin HELO %r" % raw)
    helo = msgpack.unpackb(raw, raw=True)
    expect(helo[1][b"keepalive"] is True, "HELO %r" % (helo,))
    s.close()
    # a PING too long for Fluent Bit's 1023 bytes: closed
    s = r.connect()
    read_helo(s)
    s.sendall(msgpack.packb([b"PING", b"h" * 1100, b"", b"", b"", b""], use_bin_type=False))
    expect(read_one(s) is None, "an oversized PING got an answer")
    s.close()
    st = r.stop()
    expect(st["auth_failed"] == 1 and "longer than 1023" in st["last_reject"], "stats %r" % st)


TESTS = [t_fluent_logger_tcp, t_fluent_logger_unix, t_fluent_logger_int_time, t_garbage_rejected,
         t_garbage_rejected_count_only, t_varied_entries_both_modes,
         t_good_then_bad_same_connection, t_rejected_frame_writes_nothing, t_split_and_coalesced_frames,
         t_modes_and_types, t_acks, t_gzip, t_frame_limit, t_truncated_at_eof, t_count_only, t_no_ack,
         t_wrong_ack, t_close_after, t_refuse, t_exit_after_frames, t_stop_reading, t_many_connections,
         t_handshake, t_handshake_wrong_key, t_handshake_frames_first, t_handshake_users, t_handshake_misbehaving]


class Context:
    def __init__(self, exe, workdir):
        self.exe = exe
        self.workdir = workdir
        self.started = []

    def receiver(self, name, transport="tcp", extra=()):
        r = Receiver(self.exe, self.workdir, name, transport, extra)
        self.started.append(r)
        return r

    def cleanup(self):
        for r in self.started:
            r.kill()
        self.started = []


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: /usr/bin/python3 test_receiver.py PATH_TO_fwd_receiver")
    exe = os.path.abspath(sys.argv[1])
    if not os.access(exe, os.X_OK):
        sys.exit("test_receiver: %s is not an executable" % exe)
    workdir = tempfile.mkdtemp(prefix="fwdrecv.")
    passed, failed = 0, 0
    for t in TESTS:
        ctx = Context(exe, workdir)
        name = t.__name__[2:]
        try:
            t(ctx)
            # a sanitizer report or crash on stderr is a failure even if the checks passed
            for r in ctx.started:
                err = r.stderr()
                for bad in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
                    expect(bad not in err, "%s stderr: %s" % (r.name, err[-3000:]))
            passed += 1
            print("ok   %s" % name, flush=True)
        except Exception as e:
            failed += 1
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
            print("FAIL %s: %s" % (name, detail), flush=True)
            for r in ctx.started:
                tail = r.stderr()[-2000:]
                if tail:
                    print("  [%s stderr]\n%s" % (r.name, tail), flush=True)
        finally:
            ctx.cleanup()
    if failed == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("files kept in %s" % workdir)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
