#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Pool the rounds of binder_traffic's alternating benchmark (-b -A).

    binder_alternate.py [--json OUT] [--markdown] --patched DEVICE LOG...

Each guest log holds runs of tests/binder/binder_traffic, each starting at
its "SPR-RUN binder_traffic ARGS" line. A run with -b and -A alternated
between the device of -d and the device of -A, in rounds of one slice on
each, and printed "SPR-METRIC binder_alt_round_ppm_SIZE N", a line a round:
-A's rate over -d's, in parts per million. The run whose -d or -A is
--patched gives patched / stock, or its inverse.

The table: for 64 B, 4 KiB and 256 KiB, the number of rounds pooled over
every run of every log, their median ratio patched / stock with a 95 %
confidence interval for that median (from the order statistics, which
treats the rounds as independent), how many rounds had the patched driver
ahead or level, and the range of the runs' and of the logs' own medians: a
log is a boot, and boots differ by more than that interval allows, so the
logs' medians, their mean and its standard error say more than the pooled
interval once there are several. Then the memory
runs (-M) on each device: kernel memory per binder_proc. Nothing here
asserts a speed. Its checks, "PASS|FAIL  binder-alternate: NAME [details]":

  runs          there is an alternating run, whose devices are the patched
                one and another, and no run printed a failed check
  SIZE B rounds every alternating run completed a round at that size, none
                with a rate of 0

The last line is "passed failed".
"""
import argparse
import json
import math
import statistics
import sys

from binder_compare import CHECK, METRIC, RUN, SIZES


def option(words, flag):
    """The value after @flag in @words, or None."""
    i = words.index(flag) if flag in words else -1
    return words[i + 1] if 0 <= i < len(words) - 1 else None


def parse(path):
    """The binder_traffic runs of a log: their args, checks and metrics."""
    runs, cur = [], None
    with open(path, errors="replace") as log:
        for line in log:
            m = RUN.search(line)
            if m:
                cur = None
                if m.group(1).endswith("binder_traffic"):
                    cur = {"args": m.group(2).split(), "failed": [],
                           "metrics": {}}
                    runs.append(cur)
                continue
            if cur is None:
                continue
            m = CHECK.search(line)
            if m and m.group(1) == "FAIL":
                cur["failed"].append(m.group(2))
                continue
            m = METRIC.search(line)
            if m:
                cur["metrics"].setdefault(m.group(1), []).append(
                    int(m.group(2)))
    return runs


def median_ci(values):
    """The median of @values and a 95 % interval for it, by rank."""
    v = sorted(values)
    n = len(v)
    half = 1.96 * math.sqrt(n) / 2
    lo = max(0, math.floor(n / 2 - half))
    hi = min(n - 1, math.ceil(n / 2 + half) - 1)
    return statistics.median(v), v[lo], v[hi]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--patched", required=True)
    ap.add_argument("--json")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    passed = failed = 0
    rounds = {size: [] for size in SIZES}
    run_medians = {size: [] for size in SIZES}
    log_medians = {size: [] for size in SIZES}
    memory = {"patched": [], "stock": []}
    nr_alt, bad_runs = 0, []
    bad_rounds = {size: [] for size in SIZES}

    def check(ok, name, details=""):
        nonlocal passed, failed
        print(f"{'PASS' if ok else 'FAIL'}  binder-alternate: {name}"
              f"{' ' + details if details and not ok else ''}")
        passed += ok
        failed += not ok

    for path in args.logs:
        in_log = {size: [] for size in SIZES}
        for n, run in enumerate(parse(path), 1):
            name = f"{path} run {n}"
            if run["failed"]:
                bad_runs.append(f"{name}: {', '.join(run['failed'])}")
            words, metrics = run["args"], run["metrics"]
            dev = option(words, "-d") or "/dev/binder"
            if "-M" in words:
                side = "patched" if dev == args.patched else "stock"
                memory[side] += metrics.get("binder_proc_mem_bytes_per_proc",
                                            [])
            if "-A" not in words:
                continue
            nr_alt += 1
            invert = dev == args.patched
            if invert == (option(words, "-A") == args.patched):
                bad_runs.append(f"{name}: {args.patched} is neither or "
                                "both of its devices")
                continue
            for size in SIZES:
                ppm = metrics.get(f"binder_alt_round_ppm_{size}", [])
                ratios = [(1e6 / p if invert else p / 1e6)
                          for p in ppm if p > 0]
                if not ratios or len(ratios) != len(ppm):
                    bad_rounds[size].append(
                        f"{name}: {len(ppm)} rounds, "
                        f"{len(ppm) - len(ratios)} of them at 0")
                if ratios:
                    rounds[size] += ratios
                    in_log[size] += ratios
                    run_medians[size].append(statistics.median(ratios))
        for size in SIZES:
            if in_log[size]:
                log_medians[size].append(statistics.median(in_log[size]))
    if not nr_alt:
        bad_runs.append("no run of -b with -A")
    check(not bad_runs, "runs", "; ".join(bad_runs))
    for size in SIZES:
        check(nr_alt and not bad_rounds[size], f"{size} B rounds",
              "; ".join(bad_rounds[size]))

    out = {"tps": {}, "memory": {}}
    rows = []
    for size in SIZES:
        r = rounds[size]
        if not r:
            continue
        med, lo, hi = median_ci(r)
        ahead = sum(x >= 1 for x in r)
        runs, logs = run_medians[size], log_medians[size]
        mean = statistics.mean(logs)
        se = (statistics.stdev(logs) / math.sqrt(len(logs))
              if len(logs) > 1 else None)
        out["tps"][size] = {"rounds": len(r), "median": med,
                            "ci95": [lo, hi], "ahead_or_level": ahead,
                            "run_medians": runs, "log_medians": logs,
                            "log_mean": mean, "log_mean_se": se}
        rows.append((f"{size} B", len(r), f"{med:.3f}",
                     f"{lo:.3f} to {hi:.3f}", f"{ahead} of {len(r)}",
                     f"{min(runs):.3f} to {max(runs):.3f}",
                     " ".join(f"{x:.3f}" for x in logs),
                     f"{mean:.3f}" + (f" ± {se:.3f}" if se else "")))
    for side in ("patched", "stock"):
        v = memory[side]
        out["memory"][side] = statistics.median(v) if v else None
    head = ("payload", "rounds", "patched / stock", "95 % interval",
            "patched ahead or level", "runs' medians", "logs' medians",
            "their mean ± SE")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|---|" + "--:|" * (len(head) - 1))
        for r in rows:
            print("| " + " | ".join(str(x) for x in r) + " |")
    else:
        print("; ".join(head))
        for r in rows:
            print("; ".join(str(x) for x in r))
    p, s = out["memory"]["patched"], out["memory"]["stock"]
    if p and s:
        print(f"kernel memory per binder_proc, 4 MiB mapped: patched {p} "
              f"bytes, stock {s} bytes, {p / s:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    print(f"{passed} {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
