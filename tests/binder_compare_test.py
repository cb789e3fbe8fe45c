#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check scripts/binder_compare.py's figures on made-up guest logs.

    binder_compare_test.py

The N-th log of each side is round N: the median of the rounds' ratios must
come from pairing the logs by position, not from the two sides' medians, and
a round that lacks a figure on one side must be left out of that figure
without shifting the rounds after it. Prints one line per failed
expectation, then "passed failed".
"""
import json
import math
import os
import subprocess
import sys
import tempfile

COMPARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "scripts", "binder_compare.py")

# Transactions/s per round. At 64 B the ratio of the medians is 1.0 but the
# rounds' ratios are 0.5, 0.9 and 1.1; at 4 KiB the patched log of round 1
# has no figure, so the rounds that count are 2 and 3.
PATCHED = [{64: 100, 4096: None}, {64: 90, 4096: 80}, {64: 110, 4096: 120}]
STOCK = [{64: 200, 4096: 50}, {64: 100, 4096: 100}, {64: 100, 4096: 100}]


def write_log(directory, name, tps):
    path = os.path.join(directory, name)
    with open(path, "w") as log:
        log.write("SPR-RUN binder_traffic -b -t 30\n")
        log.write("SPR-CHECK PASS binder_bench_replies\n")
        for size, value in tps.items():
            if value is not None:
                log.write(f"SPR-METRIC binder_tps_{size} {value}\n")
    return path


def main():
    failures, expected = [], 0

    def expect(ok, what):
        nonlocal expected
        expected += 1
        if not ok:
            failures.append(what)

    def close(got, want):
        if isinstance(want, list):
            return (isinstance(got, list) and len(got) == len(want) and
                    all(close(g, w) for g, w in zip(got, want)))
        return got is not None and math.isclose(got, want)

    with tempfile.TemporaryDirectory() as directory:
        patched = [write_log(directory, f"patched-{i}.log", t)
                   for i, t in enumerate(PATCHED)]
        stock = [write_log(directory, f"stock-{i}.log", t)
                 for i, t in enumerate(STOCK)]
        out = os.path.join(directory, "out.json")
        run = subprocess.run([sys.executable, COMPARE, "--json", out,
                              ",".join(patched), ",".join(stock)],
                             capture_output=True, text=True, check=False)
        expect(run.returncode == 0,
               f"binder_compare.py exited {run.returncode}: {run.stdout}"
               f"{run.stderr}")
        with open(out) as f:
            tps = json.load(f)["tps"]

    small, medium = tps["64"], tps["4096"]
    expect(close(small["ratio"], 1.0), f"64 B ratio of medians {small['ratio']}")
    expect(close(small["round_ratios"], [0.5, 0.9, 1.1]),
           f"64 B round ratios {small['round_ratios']}")
    expect(close(small["median_round_ratio"], 0.9),
           f"64 B median of the round ratios {small['median_round_ratio']}")
    expect(close(medium["round_ratios"], [0.8, 1.2]),
           f"4 KiB round ratios {medium['round_ratios']}")
    expect(close(medium["median_round_ratio"], 1.0),
           f"4 KiB median of the round ratios "
           f"{medium['median_round_ratio']}")
    for f in failures:
        print(f"FAIL  binder_compare_test: {f}")
    print(f"{expected - len(failures)} {len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
