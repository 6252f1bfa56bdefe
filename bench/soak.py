#!/usr/bin/python3
"""soak.py: every trace but malloc for a while under ordinary load; any error or loss fails it.

Runs as root from the source tree after a build. The daemon sends to the strict
test receiver with acks; the load is what a server does: a build of this tree,
a package installed and removed, TLS connections, DNS lookups, TCP connections,
processes coming and going. At the end the daemon's log must have no error and
its final counters no loss, and the receiver must have rejected nothing.

  sudo /usr/bin/python3 bench/soak.py [--seconds 300] [--extra Sched_Min_Latency=1ms]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRACES = ["exec", "vfs", "signal", "bind", "tcp", "dns", "sched", "openssl"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--seconds", type=int, default=300)
    p.add_argument("--extra", action="append", default=[], help="an [INPUT] line, e.g. Sched_Min_Latency=1ms")
    p.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "soak.json"))
    return p.parse_args()


def wait_for(path, text, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if os.path.exists(path) and text in open(path).read():
            return True
        time.sleep(0.1)
    return False


def run_quiet(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw).returncode


def package_round(work):
    """Installs and removes a small package from a .deb fetched once (dpkg, maintainer scripts and all)."""
    debs = [f for f in os.listdir(work) if f.endswith(".deb")]
    if not debs:
        run_quiet(["apt-get", "download", "hello"], cwd=work)
        debs = [f for f in os.listdir(work) if f.endswith(".deb")]
    if not debs:
        return "no package to install (apt-get download hello failed)"
    run_quiet(["dpkg", "-i", os.path.join(work, debs[0])])
    run_quiet(["dpkg", "-r", "hello"])
    return None


def build_round(work):
    """A build of this tree from scratch in a directory of its own (compilers: exec, opens, switches)."""
    d = os.path.join(work, "build-soak")
    shutil.rmtree(d, ignore_errors=True)
    if run_quiet(["meson", "setup", d, ROOT, "-Dtests=false"]) == 0:
        run_quiet(["ninja", "-C", d, "-j2"])
    shutil.rmtree(d, ignore_errors=True)


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("soak: run as root")
    work = tempfile.mkdtemp(prefix="ebpf-forward-soak-")
    os.chmod(work, 0o755)
    ready, stats = os.path.join(work, "recv.ready"), os.path.join(work, "recv.stats")
    recv = subprocess.Popen([os.path.join(args.build, "tests", "fwd_receiver"), "--tcp", "127.0.0.1:0", "--ready", ready,
                             "--count-only", "--stats", stats], stderr=subprocess.DEVNULL)
    while not os.path.exists(ready) or not open(ready).read().strip():
        time.sleep(0.05)
    port = int(open(ready).read())
    conf, log_path = os.path.join(work, "soak.conf"), os.path.join(work, "daemon.log")
    lines = ["[SERVICE]", "User = nobody", "Stats_Interval = 60", "[INPUT]"]
    lines += ["Trace = " + t for t in TRACES]
    lines += [e.replace("=", " = ", 1) for e in args.extra]
    lines += ["[OUTPUT]", "Name = forward", "Port = %d" % port, "Tag = ebpf.*"]
    open(conf, "w").write("\n".join(lines) + "\n")
    log = open(log_path, "w")
    daemon = subprocess.Popen([os.path.join(args.build, "daemon", "ebpf-forward"), "-c", conf],
                              stdout=subprocess.DEVNULL, stderr=log)
    if not wait_for(log_path, "connected to", 30):
        daemon.kill()
        sys.exit("soak: the daemon did not start:\n" + open(log_path).read())

    rounds = {"build": 0, "package": 0, "tls": 0, "dns": 0, "tcp": 0}
    notes = []
    end = time.time() + args.seconds
    while time.time() < end:
        build_round(work)
        rounds["build"] += 1
        for _ in range(3):
            why = package_round(work)
            if why and why not in notes:
                notes.append(why)
            rounds["package"] += 1
            run_quiet(["/usr/bin/python3", os.path.join(ROOT, "bench", "tls_load.py"), "2"])
            rounds["tls"] += 1
            run_quiet([os.path.join(args.build, "bench", "loadgen"), "--path", "/x", "--op", "dns", "--seconds", "2",
                       "--rate", "200"])
            rounds["dns"] += 1
            run_quiet([os.path.join(args.build, "bench", "loadgen"), "--path", "/x", "--op", "tcp", "--seconds", "2",
                       "--rate", "500"])
            rounds["tcp"] += 1
            if time.time() >= end:
                break

    daemon.send_signal(signal.SIGTERM)
    status = daemon.wait(timeout=60)
    log.close()
    recv.send_signal(signal.SIGTERM)
    recv.wait(timeout=30)
    text = open(log_path).read()
    rstats = json.loads(open(stats).read())
    traces = {m.group(1): {"events": int(m.group(2)), "lost": int(m.group(3)), "malformed": int(m.group(4))}
              for m in re.finditer(r"final: trace (\w+): (\d+) events(?: \([\d.]+/s\))?, (\d+) lost in kernel ring, "
                                   r"(\d+) malformed", text)}
    out = re.search(r"final: output: (\d+) records in, (\d+) sent, (\d+) acked, (\d+) dropped", text)
    errors = [l for l in text.splitlines() if l.startswith("<3>")]
    result = {
        "seconds": args.seconds,
        "traces": traces,
        "extra": args.extra,
        "rounds": rounds,
        "output": dict(zip(["records_in", "sent", "acked", "dropped"], map(int, out.groups()))) if out else None,
        "receiver_entries": rstats.get("entries"),
        "receiver_rejected": rstats.get("rejected"),
        "error_lines": errors,
        "exit_status": status,
        "notes": notes,
    }
    failures = []
    if status != 0:
        failures.append("the daemon exited %d" % status)
    if errors:
        failures.append("%d error lines in the log" % len(errors))
    for t, c in traces.items():
        if c["lost"] or c["malformed"]:
            failures.append("trace %s: %d lost, %d malformed" % (t, c["lost"], c["malformed"]))
    if set(traces) != set(TRACES):
        failures.append("final counters for %s only" % sorted(traces))
    if not out or int(out.group(4)):
        failures.append("output: %s records dropped" % (out.group(4) if out else "?"))
    elif int(out.group(1)) != int(out.group(3)):
        failures.append("output: %s records in but %s acked" % (out.group(1), out.group(3)))
    if rstats.get("rejected"):
        failures.append("the receiver rejected %d frames" % rstats["rejected"])
    result["failures"] = failures
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    json.dump(result, open(args.json, "w"), indent=2)
    print(json.dumps(result, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    print("soak: %s" % ("FAILED: " + "; ".join(failures) if failures else "passed"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
