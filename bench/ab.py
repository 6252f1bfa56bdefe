#!/usr/bin/python3
"""ab.py: two daemons (builds, or configurations) compared in turn: flat-out runs over the Unix socket, A/B pairs.

  sudo bench/ab.py BUILD_A BUILD_B [--pairs N] [--seconds S]
  sudo bench/ab.py build build:Frame_Size=256K        # a build, then extra configuration lines after ':'

This VM's speed drifts by 2x within minutes, more than most changes move the daemon's CPU per event,
so one run of each says little. Here the two run in turn (ABBA...), each run of bench.py's flat-out
measurement (bench.flat_out_run), and the pairs' ratios are printed with the medians: a change is
real when the ratios lean one way, not when one median is lower. Each run also gives the machine's
speed just before it (pack_bench on the daemon's CPU).
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the benchmark's own runs, not a copy of them)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", help="build directory, optionally followed by :Key=Value configuration lines")
    p.add_argument("b", help="the same for the other side")
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--seconds", type=int, default=4, help="seconds of flat-out load per run")
    return p.parse_args()


def side(spec):
    parts = spec.split(":")
    return parts[0], parts[1:]


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("ab: run as root (the daemon loads BPF programs)")
    for spec in (args.a, args.b):
        build, _ = side(spec)
        for exe in ("daemon/ebpf-forward", "tests/fwd_receiver", "bench/loadgen", "bench/pack_bench"):
            if not os.path.exists(os.path.join(build, exe)):
                sys.exit("ab: %s has no %s" % (build, exe))
    sys.argv = [sys.argv[0], "--seconds", str(args.seconds)]
    bargs = bench.parse_args()
    workdir = tempfile.mkdtemp(prefix="ebpf-forward-ab-")
    os.chmod(workdir, 0o755)
    marker = os.path.join(workdir, "marker-%d" % os.getpid())
    open(marker, "w").close()
    ns = {args.a: [], args.b: []}
    for i in range(args.pairs):
        for spec in (args.a, args.b) if i % 2 == 0 else (args.b, args.a):
            bargs.build, extra = side(spec)
            r = bench.flat_out_run(bargs, workdir, marker, 1, "unix", extra=extra)
            ns[spec].append(r["daemon_cpu_ns_per_event"])
            print("pair %d %s: %.0f ns per event, %.0f events/s, %d lost, machine speed %.0f ns"
                  % (i + 1, spec, r["daemon_cpu_ns_per_event"], r["events_per_s"], r["lost_total"],
                     r["pack_bench_ns_per_record"]), flush=True)
    for spec in (args.a, args.b):
        print("%s: median %.0f ns (%s)" % (spec, statistics.median(ns[spec]), ", ".join("%.0f" % x for x in ns[spec])))
    ratios = [b / a for a, b in zip(ns[args.a], ns[args.b])]
    print("B/A by pair: median %.3f (%s); B lower in %d of %d"
          % (statistics.median(ratios), ", ".join("%.3f" % x for x in ratios), sum(x < 1 for x in ratios),
             len(ratios)))


if __name__ == "__main__":
    main()
