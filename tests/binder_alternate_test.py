#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check scripts/binder_alternate.py's figures on made-up guest logs.

    binder_alternate_test.py

A round's ratio is -A's device over -d's: it must be taken as it is when
-A is the patched driver and inverted when -d is, and the rounds of every
run must be pooled before the median is taken. A run with a failed check
or with no round must fail the report's checks. Prints one line per failed
expectation, then "passed failed".
"""
import json
import math
import os
import subprocess
import sys
import tempfile

ALTERNATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                         "scripts", "binder_alternate.py")
PATCHED = "/dev/binder_spr"
STOCK_ARGS = "-d /dev/binder -A /dev/binder_spr -E /sys/kernel/debug/binder_spr"
SIDE_ARGS = ("-d /dev/binder_spr -B /sys/kernel/debug/binder_spr "
             "-A /dev/binder -E /sys/kernel/debug/binder")


def run_text(args, rounds, check="PASS"):
    """A run: @rounds maps a size to its rounds' ratios in ppm."""
    lines = [f"SPR-RUN binder_traffic -b -t 30 {args}",
             f"SPR-CHECK {check} binder_bench_64"]
    for size, ppm in rounds.items():
        lines += [f"SPR-METRIC binder_alt_round_ppm_{size} {p}" for p in ppm]
    return "\n".join(lines) + "\n"


def memory_text(args, per_proc):
    return (f"SPR-RUN binder_traffic -M 256 {args}\n"
            "SPR-CHECK PASS binder_proc_mem\n"
            f"SPR-METRIC binder_proc_mem_bytes_per_proc {per_proc}\n")


def report(directory, name, *texts):
    """binder_alternate.py on a log of each of @texts: exit status,
    stdout, JSON."""
    logs = []
    for i, text in enumerate(texts):
        logs.append(os.path.join(directory, f"{name}-{i}.log"))
        with open(logs[-1], "w") as f:
            f.write("SPR-RUN spr_modules\n" + text)
    out = os.path.join(directory, name + ".json")
    run = subprocess.run([sys.executable, ALTERNATE, "--patched", PATCHED,
                          "--json", out] + logs,
                         capture_output=True, text=True, check=False)
    with open(out) as f:
        return run.returncode, run.stdout, json.load(f)


def main():
    failures, expected = [], 0

    def expect(ok, what):
        nonlocal expected
        expected += 1
        if not ok:
            failures.append(what)

    # 64 B: patched on -A at 1.1, 1.2 and 0.5; patched on -d, stored as
    # stock / patched, at 1 / 0.8 and 1 / 0.9. Pooled: 0.5, 0.8, 0.9,
    # 1.1, 1.2, median 0.9, and 2 of 5 ahead or level.
    good = (run_text(STOCK_ARGS, {64: [1100000, 1200000, 500000],
                                  4096: [1000000], 262144: [1000000]}) +
            run_text(SIDE_ARGS, {64: [1250000, 1111111], 4096: [1000000],
                                 262144: [2000000]}) +
            memory_text("-d /dev/binder", 34000) +
            memory_text(SIDE_ARGS.split(" -A")[0], 9000))
    with tempfile.TemporaryDirectory() as directory:
        status, stdout, out = report(directory, "good", good)
        expect(status == 0 and stdout.endswith("4 0\n"),
               f"good logs: exit {status}, output {stdout!r}")
        small = out["tps"]["64"]
        expect(small["rounds"] == 5, f"64 B rounds {small['rounds']}")
        expect(math.isclose(small["median"], 0.9, rel_tol=1e-6),
               f"64 B median {small['median']}")
        expect(small["ahead_or_level"] == 2,
               f"64 B ahead or level {small['ahead_or_level']}")
        lo, hi = small["ci95"]
        expect(lo <= small["median"] <= hi, f"64 B interval {lo} to {hi}")
        runs = sorted(small["run_medians"])
        expect(math.isclose(runs[0], 0.85, rel_tol=1e-6) and
               math.isclose(runs[1], 1.1, rel_tol=1e-6),
               f"64 B runs' medians {runs}")
        large = out["tps"]["262144"]
        expect(math.isclose(large["median"], 0.75, rel_tol=1e-6),
               f"256 KiB median {large['median']}")
        expect(out["memory"] == {"patched": 9000, "stock": 34000},
               f"memory {out['memory']}")

        # Two boots: the rounds pool, and each log has its own median.
        other = run_text(STOCK_ARGS, {64: [1000000, 1000000, 1300000],
                                      4096: [1000000], 262144: [1000000]})
        status, stdout, out = report(directory, "boots", good, other)
        small = out["tps"]["64"]
        expect(status == 0 and small["rounds"] == 8,
               f"two logs: exit {status}, 64 B rounds {small['rounds']}")
        expect(math.isclose(small["median"], 1.0, rel_tol=1e-6),
               f"two logs: 64 B median {small['median']}")
        logs = small["log_medians"]
        expect(len(logs) == 2 and math.isclose(logs[0], 0.9, rel_tol=1e-6)
               and math.isclose(logs[1], 1.0, rel_tol=1e-6),
               f"two logs: 64 B logs' medians {logs}")
        expect(math.isclose(small["log_mean"], 0.95, rel_tol=1e-6) and
               math.isclose(small["log_mean_se"], 0.05, rel_tol=1e-6),
               f"two logs: mean {small['log_mean']} "
               f"± {small['log_mean_se']}")

        status, stdout, _ = report(directory, "failed", run_text(
            STOCK_ARGS, {64: [1000000], 4096: [1000000],
                         262144: [1000000]}, check="FAIL"))
        expect(status == 1 and "FAIL  binder-alternate: runs" in stdout,
               f"a failed check: exit {status}, output {stdout!r}")

        status, stdout, _ = report(directory, "empty", run_text(
            STOCK_ARGS, {64: [1000000], 4096: [1000000]}))
        expect(status == 1 and
               "FAIL  binder-alternate: 262144 B rounds" in stdout,
               f"no round at 256 KiB: exit {status}, output {stdout!r}")

        status, stdout, _ = report(directory, "none", memory_text(
            "-d /dev/binder", 34000))
        expect(status == 1 and "FAIL  binder-alternate: runs" in stdout,
               f"no alternating run: exit {status}, output {stdout!r}")

    for what in failures:
        print(f"FAIL  {what}")
    print(f"{expected - len(failures)} {len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
