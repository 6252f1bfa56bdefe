#!/usr/bin/python3
"""bench.py: ebpf-forward's benchmark: loss, throughput, CPU per event, memory, idle wake-ups, delay, syscall cost.

Runs as root from the source tree after a build (scripts/bench.sh builds first):
the strict receiver counts what arrives, the daemon traces, loadgen makes the load.
Prints one table and writes the same figures as JSON.
"""
import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build directory")
    p.add_argument("--trace", default="vfs", choices=["vfs", "exec", "signal"], help="trace under load")
    p.add_argument("--procs", default="1,2", help="generator processes, comma-separated runs (default 1,2)")
    p.add_argument("--seconds", type=int, default=10, help="seconds of flat-out load per run")
    p.add_argument("--rate", type=int, default=1000, help="events/s of the delay run")
    p.add_argument("--rate-seconds", type=int, default=5)
    p.add_argument("--idle-seconds", type=int, default=5)
    p.add_argument("--extra", action="append", default=[], help="extra daemon config line, e.g. Ringbuf_Size=256K (in --costs: [INPUT] lines, e.g. Vfs_Resolved_Path=on)")
    p.add_argument("--costs", default="", help="traces whose kernel cost to measure under their own load, "
                   "comma-separated, or 'all' (then only that section runs)")
    p.add_argument("--cost-path", default="/nonexistent/ebpf-forward-bench",
                   help="the file the open load opens in --costs (the default does not exist: failed opens)")
    p.add_argument("--cost-seconds", type=int, default=5, help="seconds of load per trace in --costs")
    p.add_argument("--exec-args", type=int, default=0,
                   help="exec load: this many more arguments of 15 bytes each (at most 512), for a long command line")
    p.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "latest.json"))
    return p.parse_args()


class Receiver:
    """The test receiver in counting mode, with its statistics file."""

    def __init__(self, build, workdir, match):
        self.ready = os.path.join(workdir, "recv.ready")
        self.stats_path = os.path.join(workdir, "recv.stats")
        for stale in (self.ready, self.stats_path):
            if os.path.exists(stale):
                os.unlink(stale)
        self.proc = subprocess.Popen(
            [os.path.join(build, "tests", "fwd_receiver"), "--tcp", "127.0.0.1:0", "--ready", self.ready,
             "--count-only", "--count-match", match, "--stats", self.stats_path],
            stderr=subprocess.DEVNULL, preexec_fn=pinned("rest"))
        self.port = int(wait_file(self.ready).strip())

    def stats(self):
        before = os.stat(self.stats_path).st_mtime_ns if os.path.exists(self.stats_path) else 0
        self.proc.send_signal(signal.SIGUSR1)
        for _ in range(400):
            if os.path.exists(self.stats_path) and os.stat(self.stats_path).st_mtime_ns != before:
                break
            time.sleep(0.005)
        with open(self.stats_path) as f:
            return json.loads(f.read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        with open(self.stats_path) as f:
            return json.loads(f.read())


class Daemon:
    """ebpf-forward as a child, so its rusage (CPU, peak RSS) is ours to read when it exits."""

    def __init__(self, build, workdir, trace, port, extra, name="daemon"):
        self.conf = os.path.join(workdir, name + ".conf")
        self.log_path = os.path.join(workdir, name + ".log")
        lines = ["[SERVICE]", "User = nobody", "Stats_Interval = 0",
                 "[INPUT]", "Trace = " + trace]
        lines += [e.replace("=", " = ", 1) for e in extra if e.split("=")[0].strip().lower() in INPUT_KEYS]
        lines += ["[OUTPUT]", "Name = forward", "Port = %d" % port, "Tag = ebpf.*"]
        lines += [e.replace("=", " = ", 1) for e in extra if e.split("=")[0].strip().lower() not in INPUT_KEYS]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(build, "daemon", "ebpf-forward"), "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=self.log, preexec_fn=pinned("rest"))
        if not wait_text(self.log_path, "connected to", 15):
            self.proc.kill()
            self.proc.wait()
            sys.exit("bench: the daemon did not connect; its log:\n" + open(self.log_path).read())

    def status(self, field):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def wakeups(self):
        """Context switches of every thread: each is a wake-up from a sleep or a preemption."""
        total = 0
        for tid in os.listdir("/proc/%d/task" % self.proc.pid):
            with open("/proc/%d/task/%s/status" % (self.proc.pid, tid)) as f:
                for line in f:
                    if "ctxt_switches" in line:
                        total += int(line.split()[1])
        return total

    def stop(self):
        """SIGTERM, then its CPU seconds and peak RSS (KiB) from wait4, and its final counters."""
        self.proc.send_signal(signal.SIGTERM)
        _, status, ru = os.wait4(self.proc.pid, 0)
        self.proc.returncode = status
        self.log.close()
        text = open(self.log_path).read()
        return {
            "cpu_s": ru.ru_utime + ru.ru_stime,
            "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime,
            "maxrss_kib": ru.ru_maxrss,
            "kernel_lost": sum(int(x) for x in re.findall(r"final: trace \w+: \d+ events(?: \([\d.]+/s\))?, (\d+) lost", text)),
            "trace_events": sum(int(x) for x in re.findall(r"final: trace \w+: (\d+) events", text)),
            "output_dropped": sum(int(x) for x in re.findall(r"final: output: \d+ records in, \d+ sent, \d+ acked, (\d+) dropped", text)),
            "exit_status": status,
            "log": text,
        }


INPUT_KEYS = {"ringbuf_size", "pid", "uid", "vfs_resolved_path", "sched_min_latency"}
# the generator's comm: the receiver counts the entries that carry it
COMM = "benchgen%d" % (os.getpid() % 100000)


def wait_file(path, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
            if text:
                return text
        time.sleep(0.01)
    sys.exit("bench: %s did not appear" % path)


def wait_text(path, text, seconds):
    end = time.time() + seconds
    while time.time() < end:
        with open(path) as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False


OPS = {"vfs": "open", "exec": "exec", "signal": "kill"}

# Placement: with fewer generators than CPUs, the generators get CPUs of their
# own and the daemon and receiver share the rest, so "added" is the tracing's
# cost to the syscall, not time lost to the daemon or receiver preempting it.
PLACE = {"gen": None, "rest": None}


def place(procs):
    cpus = sorted(os.sched_getaffinity(0))
    if procs < len(cpus):
        PLACE["gen"], PLACE["rest"] = set(cpus[:procs]), set(cpus[procs:])
    else:
        PLACE["gen"] = PLACE["rest"] = None


def pinned(which):
    cpus = PLACE[which]
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def loadgen(build, marker, procs, seconds, rate=0, trace="vfs", op=None, exec_args=0):
    # --comm neither 2nd, 3rd nor last: the exec trace records argv1, argv2 and argv_last,
    # and the receiver would count loadgen's own exec as the generator's
    out = subprocess.run([os.path.join(build, "bench", "loadgen"), "--path", marker, "--comm", COMM,
                          "--procs", str(procs), "--seconds", str(seconds), "--rate", str(rate),
                          "--op", op or OPS[trace], "--exec-args", str(exec_args)],
                         check=True, capture_output=True, text=True, preexec_fn=pinned("gen")).stdout
    return json.loads(out)


def settle(recv, key="matched", quiet=1.0, limit=60):
    """Waits until the receiver's count stops growing for `quiet` seconds."""
    last, since, end = -1, time.time(), time.time() + limit
    while time.time() < end:
        n = recv.stats()[key]
        if n != last:
            last, since = n, time.time()
        elif time.time() - since >= quiet:
            break
        time.sleep(0.1)
    return last


def flat_out_run(args, workdir, marker, procs):
    place(procs)
    untraced = loadgen(args.build, marker, procs, args.seconds, trace=args.trace)
    recv = Receiver(args.build, workdir, COMM)
    d = Daemon(args.build, workdir, args.trace, recv.port, args.extra, "flat%d" % procs)
    traced = loadgen(args.build, marker, procs, args.seconds, trace=args.trace)
    got = settle(recv)
    rss_now = d.status("VmRSS") / 1024.0
    fin = d.stop()
    rstats = recv.stop()
    made = traced["ops"]
    delivered = rstats["matched"]
    all_delivered = rstats["entries"]
    return {
        "procs": procs,
        "seconds": args.seconds,
        "events_made": made,
        "events_received": delivered,
        "lost_total": made - delivered,
        "lost_kernel_ring": fin["kernel_lost"],
        "lost_daemon_buffer": fin["output_dropped"],
        "events_per_s": delivered / args.seconds,
        "all_entries_received": all_delivered,
        "daemon_cpu_s": fin["cpu_s"],
        "daemon_cpu_ns_per_event": fin["cpu_s"] * 1e9 / all_delivered if all_delivered else None,
        "daemon_peak_rss_mib": fin["maxrss_kib"] / 1024.0,
        "daemon_rss_after_mib": rss_now,
        "open_close_untraced_ns": untraced["ns_per_op"],
        "open_close_traced_ns": traced["ns_per_op"],
        "added_syscall_ns": traced["ns_per_op"] - untraced["ns_per_op"],
        "pinned": PLACE["gen"] is not None,
        "_settled": got,
    }


def idle_run(args, workdir):
    """No events at all: the trace is filtered to a process that does nothing."""
    place(len(os.sched_getaffinity(0)))
    sleeper = subprocess.Popen(["sleep", str(args.idle_seconds + 30)])
    recv = Receiver(args.build, workdir, "idle")
    d = Daemon(args.build, workdir, args.trace, recv.port, args.extra + ["Pid=%d" % sleeper.pid], "idle")
    time.sleep(1.5)  # past start-up
    w0, t0 = d.wakeups(), time.time()
    time.sleep(args.idle_seconds)
    w1, t1 = d.wakeups(), time.time()
    fin = d.stop()
    recv.stop()
    sleeper.kill()
    sleeper.wait()
    return {"idle_wakeups_per_s": (w1 - w0) / (t1 - t0), "idle_rss_mib": fin["maxrss_kib"] / 1024.0}


def delay_run(args, workdir, marker):
    place(len(os.sched_getaffinity(0)))
    recv = Receiver(args.build, workdir, COMM)
    d = Daemon(args.build, workdir, args.trace, recv.port, args.extra, "delay")
    gen = loadgen(args.build, marker, 1, args.rate_seconds, args.rate, trace=args.trace)
    settle(recv)
    d.stop()
    rs = recv.stop()
    return {
        "rate": args.rate,
        "events_made": gen["ops"],
        "events_received": rs["matched"],
        "delay_p50_ms": rs["delay_p50_ns"] / 1e6,
        "delay_p99_ms": rs["delay_p99_ns"] / 1e6,
    }


# Per trace, the load that exercises it: loadgen's operation (or a command of bench/), and the events
# one operation makes.
COST_LOADS = {
    "exec": ("exec", 2, "fork+exec of /bin/true (enter and exit records)"),
    "vfs": ("open", 1, "open+close of a file"),
    "signal": ("kill", 1, "kill(self, 0)"),
    "bind": ("bind", 1, "UDP socket, bind to 127.0.0.1:0, close"),
    "malloc": ("malloc", 2, "malloc(64)+free (every process's calls are traced)"),
    "tcp": ("tcp", 2, "TCP connect+accept on loopback"),
    "dns": ("dns", 2, "query and answer on a socket connected to 127.0.0.1:53"),
    "sched": ("switch", 2, "pipe ping-pong with a partner process (two switches)"),
    "openssl": ("tls_load.py", 4, "32-byte TLS round trips over loopback (Python, system libssl)"),
}


def bpf_stats(enable):
    """Turns the kernel's per-program run time counters on or off; returns the previous setting."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(path) as f:
        before = f.read().strip()
    with open(path, "w") as f:
        f.write("1" if enable else "0")
    return before == "1"


def prog_counters(pid):
    """run_time_ns and run_cnt summed over the BPF programs the process holds (its fds), by name."""
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids.update(int(l.split()[1]) for l in f if l.startswith("prog_id:"))
        except OSError:
            pass
    progs = {}
    for i in sorted(ids):
        info = json.loads(subprocess.run(["bpftool", "prog", "show", "id", str(i), "--json"],
                                         check=True, capture_output=True, text=True).stdout)
        progs[info["name"]] = (info.get("run_time_ns", 0), info.get("run_cnt", 0))
    return progs


def cost_run(args, workdir, trace):
    """One trace under its load: the kernel's run time of its programs per event, and the event rate."""
    op, per_op, what = COST_LOADS[trace]
    place(1)
    conf = os.path.join(workdir, "cost-%s.conf" % trace)
    log_path = os.path.join(workdir, "cost-%s.log" % trace)
    with open(conf, "w") as f:
        f.write("[SERVICE]\nUser = nobody\nStats_Interval = 0\nMetrics_Records = off\n"
                "[INPUT]\nTrace = %s\n%s[OUTPUT]\nName = stdout\n" % (
                    trace, "".join("%s\n" % e.replace("=", " = ", 1) for e in args.extra)))
    with open(log_path, "w") as log:
        proc = subprocess.Popen([os.path.join(args.build, "daemon", "ebpf-forward"), "-c", conf],
                                stdout=subprocess.DEVNULL, stderr=log, preexec_fn=pinned("rest"))
    if not wait_text(log_path, "running with", 20):
        proc.kill()
        proc.wait()
        return {"trace": trace, "error": open(log_path).read().strip().splitlines()[-1:]}
    if op.endswith(".py"):
        gen = json.loads(subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", op), str(args.cost_seconds)],
                                        check=True, capture_output=True, text=True, preexec_fn=pinned("gen")).stdout)
    else:
        gen = loadgen(args.build, args.cost_path, 1, args.cost_seconds, op=op, exec_args=args.exec_args)
    # the programs were loaded by this daemon: their counters cover its whole life, as its event count does
    progs = prog_counters(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    text = open(log_path).read()
    m = re.search(r"final: trace %s: (\d+) events(?: \([\d.]+/s\))?, (\d+) lost" % trace, text)
    # every event the programs made: the ones read, and the ones a full ring refused (still a program run)
    events = int(m.group(1)) + int(m.group(2)) if m else 0
    run_ns = sum(v[0] for v in progs.values())
    runs = sum(v[1] for v in progs.values())
    made = gen["ops"] * per_op
    return {
        "trace": trace,
        "load": what,
        "load_events_per_s": made / args.cost_seconds,
        "events_total": events,
        "events_lost": int(m.group(2)) if m else None,
        "bpf_runs": runs,
        "bpf_ns": run_ns,
        # every event of the trace, the load's and the rest of the machine's, over every run of its programs
        "bpf_ns_per_event": run_ns / events if events else None,
        "bpf_ns_per_run": run_ns / runs if runs else None,
        "programs": {n: {"run_time_ns": v[0], "run_cnt": v[1]} for n, v in progs.items()},
    }


def costs_section(args, workdir):
    listed = subprocess.run([os.path.join(args.build, "daemon", "ebpf-forward"), "--list-traces"],
                            capture_output=True, text=True).stdout
    built = re.findall(r"^(\w+) ", listed, re.M)
    want = built if args.costs == "all" else args.costs.split(",")
    was = bpf_stats(True)
    try:
        out = []
        for t in want:
            if t not in COST_LOADS:
                out.append({"trace": t, "error": "no load for it in bench.py"})
            elif t not in built:
                out.append({"trace": t, "error": "not in this build"})
            else:
                out.append(cost_run(args, workdir, t))
        return out
    finally:
        bpf_stats(was)


def costs_table(costs):
    rows = [("trace", "load; events/s; BPF ns per event; ns per program run (runs)")]
    for c in costs:
        if "error" in c:
            rows.append((c["trace"], "not measured: %s" % c["error"]))
        else:
            rows.append((c["trace"], "%s; %.0f/s; %.0f ns; %.0f ns (%d)" % (
                c["load"], c["load_events_per_s"], c["bpf_ns_per_event"] or 0, c["bpf_ns_per_run"] or 0,
                c["bpf_runs"])))
    width = max(len(k) for k, _ in rows)
    return "\n".join("%-*s  %s" % (width, k, v) for k, v in rows)


def table(results):
    rows = []
    for r in results["flat_out"]:
        rows += [
            ("flat out, %d generator(s), %d s%s" % (r["procs"], r["seconds"],
                                                  ", generators on CPUs of their own" if r["pinned"] else ""), ""),
            ("  events made / received", "%d / %d" % (r["events_made"], r["events_received"])),
            ("  lost: kernel ring / daemon buffer / total", "%d / %d / %d" % (
                r["lost_kernel_ring"], r["lost_daemon_buffer"], r["lost_total"])),
            ("  events per second delivered", "%.0f" % r["events_per_s"]),
            ("  daemon CPU per delivered event", "%.0f ns" % (r["daemon_cpu_ns_per_event"] or 0)),
            ("  daemon RSS: peak / after the run", "%.1f / %.1f MiB" % (
                r["daemon_peak_rss_mib"], r["daemon_rss_after_mib"])),
            ("  open+close untraced / traced / added", "%.0f / %.0f / %.0f ns" % (
                r["open_close_untraced_ns"], r["open_close_traced_ns"], r["added_syscall_ns"])),
        ]
    i = results["idle"]
    rows.append(("idle wake-ups per second", "%.1f" % i["idle_wakeups_per_s"]))
    rows.append(("idle daemon RSS: peak", "%.1f MiB" % i["idle_rss_mib"]))
    dl = results["delay"]
    rows.append(("delay at %d events/s: median / p99" % dl["rate"], "%.1f / %.1f ms (%d of %d received)" % (
        dl["delay_p50_ms"], dl["delay_p99_ms"], dl["events_received"], dl["events_made"])))
    width = max(len(k) for k, _ in rows)
    return "\n".join("%-*s  %s" % (width, k, v) for k, v in rows)


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the daemon loads BPF programs)")
    for exe in ("daemon/ebpf-forward", "tests/fwd_receiver", "bench/loadgen"):
        if not os.path.exists(os.path.join(args.build, exe)):
            sys.exit("bench: %s not built; run scripts/bench.sh" % exe)
    workdir = tempfile.mkdtemp(prefix="ebpf-forward-bench-")
    os.chmod(workdir, 0o755)
    marker = os.path.join(workdir, "marker-%d" % os.getpid())
    open(marker, "w").close()
    if args.costs:
        results = {"kernel": os.uname().release, "cpus": os.cpu_count(), "extra_config": args.extra,
                   "costs": costs_section(args, workdir)}
        print(costs_table(results["costs"]))
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print("written: %s" % args.json)
        return
    results = {
        "trace": args.trace,
        "extra_config": args.extra,
        "kernel": os.uname().release,
        "cpus": os.cpu_count(),
        "flat_out": [flat_out_run(args, workdir, marker, int(n)) for n in args.procs.split(",")],
        "idle": idle_run(args, workdir),
        "delay": delay_run(args, workdir, marker),
    }
    print(table(results))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print("written: %s" % args.json)


if __name__ == "__main__":
    main()
