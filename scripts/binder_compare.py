#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare binder_traffic runs against the patched and the stock binder.

    binder_compare.py [--json OUT] [--markdown] [--label NAME]
                      PATCHED_LOG[,LOG...] STOCK_LOG[,LOG...]

Each guest log holds runs of tests/binder/binder_traffic, each starting at
its "SPR-RUN binder_traffic ARGS" line. Runs are paired by mode: the
default traffic run, the benchmark (-b) and the memory run (-M). Options
that only say which device and debugfs directory to use (-d, -B) or that
ask for the module's own checks (-m) are not part of the mode.

Checks, printed as "PASS|FAIL  LABEL: NAME [details]", where LABEL is
--label (binder-compare):

  binder_same_checks     each pair of runs printed the same check names
                         with the same results, but for the checks of the
                         module's debugfs that only the patched run makes
  binder_same_behaviour  the metrics that describe behaviour, not speed,
                         are equal: error codes, page counts after the
                         size sweep and after drop_caches, failed replies
                         (only when the logs have a traffic run)

Then the side-by-side table: transactions per second at 64 B, 4 KiB and
256 KiB, patched / stock. With several logs a side, the N-th log of each
side is round N, and the table shows the median of each figure, the ratio of
the medians and the median of the rounds' own ratios: a round's two boots
are close in time, so its ratio is not moved by the host's drift from one
round to the next. After the table: binder's resident pages after the
benchmark; and
the kernel memory per binder_proc with a 4 MiB mapping. Those are reported,
not checked: a ratio of speeds is not a test. The last line is
"passed failed", as check_guest_log.py prints it.
"""
import argparse
import json
import re
import statistics
import sys

RUN = re.compile(r"SPR-RUN (\S+)\s*(.*)")
CHECK = re.compile(r"SPR-CHECK (PASS|FAIL) (\S+) ?(.*)")
METRIC = re.compile(r"SPR-METRIC (\S+) (-?\d+)")
# Checks of the module's debugfs: only the patched run makes them (-m).
MODULE_ONLY = re.compile(r"^binder_module_")
# Metrics that must be equal: what the driver did, not how fast.
BEHAVIOUR = ("binder_over_limit_sync_error", "binder_over_limit_oneway_error",
             "binder_pages_lru_after_sizes",
             "binder_pages_high_watermark_after_sizes",
             "binder_pages_lru_after_drop", "binder_server_replies_failed")
SIZES = (64, 4096, 262144)


def mode(args):
    words, out, skip = args.split(), [], False
    for w in words:
        if skip:
            skip = False
        elif w in ("-d", "-B"):
            skip = True
        elif w != "-m":
            out.append(w)
    if "-b" in out:
        return "bench"
    if "-M" in out:
        return "memory"
    return "traffic"


def parse(path):
    runs, cur = {}, None
    with open(path, errors="replace") as log:
        for line in log:
            m = RUN.search(line)
            if m:
                cur = None
                if m.group(1).endswith("binder_traffic"):
                    cur = {"checks": {}, "metrics": {}}
                    runs[mode(m.group(2))] = cur
                continue
            if cur is None:
                continue
            m = CHECK.search(line)
            if m and not m.group(2).startswith("guest_"):
                cur["checks"][m.group(2)] = m.group(1)
                continue
            m = METRIC.search(line)
            if m and not m.group(1).startswith("guest_"):
                cur["metrics"][m.group(1)] = int(m.group(2))
    return runs


def merge(paths):
    """The runs of several logs: checks of the first, metric medians."""
    logs = [parse(p) for p in paths.split(",")]
    runs = {}
    for m in ("traffic", "bench", "memory"):
        have = [log[m] for log in logs if m in log]
        if not have:
            continue
        metrics, spread, each = {}, {}, {}
        names = dict.fromkeys(k for r in have for k in r["metrics"])
        for k in names:
            values = [r["metrics"].get(k) for r in have]
            each[k] = values
            values = [v for v in values if v is not None]
            metrics[k] = statistics.median_low(values)
            spread[k] = (min(values), max(values))
        runs[m] = {"checks": have[0]["checks"], "metrics": metrics,
                   "spread": spread, "each": each, "runs": len(have)}
        for r in have[1:]:
            if r["checks"] != have[0]["checks"]:
                runs[m]["checks"] = {**r["checks"], "runs_disagree": "FAIL"}
    return runs


def round_ratios(patched, stock, key):
    """patched / stock of each round that has the figure on both sides."""
    p = patched.get("bench", {}).get("each", {}).get(key, [])
    s = stock.get("bench", {}).get("each", {}).get(key, [])
    return [a / b for a, b in zip(p, s) if a and b]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("patched")
    ap.add_argument("stock")
    ap.add_argument("--json")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--label", default="binder-compare")
    args = ap.parse_args()
    patched, stock = merge(args.patched), merge(args.stock)
    passed = failed = 0

    def check(ok, name, details=""):
        nonlocal passed, failed
        print(f"{'PASS' if ok else 'FAIL'}  {args.label}: {name}"
              f"{' ' + details if details and not ok else ''}")
        passed += ok
        failed += not ok

    diffs = []
    for m in ("traffic", "bench", "memory"):
        p, s = patched.get(m), stock.get(m)
        if not p and not s:
            continue
        if not p or not s:
            diffs.append(f"{m}: no run in the "
                         f"{'patched' if not p else 'stock'} log")
            continue
        pc = {k: v for k, v in p["checks"].items()
              if not MODULE_ONLY.match(k)}
        if pc != s["checks"]:
            keys = sorted(set(pc) | set(s["checks"]))
            diffs += [f"{m}/{k}: patched {pc.get(k)} stock "
                      f"{s['checks'].get(k)}" for k in keys
                      if pc.get(k) != s["checks"].get(k)]
        if not pc:
            diffs.append(f"{m}: no checks")
    check(not diffs, "binder_same_checks", "; ".join(diffs))

    diffs = []
    pm = patched.get("traffic", {}).get("metrics", {})
    sm = stock.get("traffic", {}).get("metrics", {})
    for k in BEHAVIOUR:
        if k not in pm or pm.get(k) != sm.get(k):
            diffs.append(f"{k}: patched {pm.get(k)} stock {sm.get(k)}")
    # Only the traffic run measures behaviour; the benchmark has none.
    if "traffic" in patched or "traffic" in stock:
        check(not diffs, "binder_same_behaviour", "; ".join(diffs))

    rows, out = [], {"tps": {}, "memory": {}}
    pb = patched.get("bench", {}).get("metrics", {})
    sb = stock.get("bench", {}).get("metrics", {})
    spreads, rounds = [], []
    for size in SIZES:
        key = f"binder_tps_{size}"
        p, s = pb.get(key), sb.get(key)
        ratio = p / s if p and s else None
        ps = patched.get("bench", {}).get("spread", {}).get(key)
        ss = stock.get("bench", {}).get("spread", {}).get(key)
        each = round_ratios(patched, stock, key)
        paired = statistics.median(each) if each else None
        out["tps"][size] = {"patched": p, "stock": s, "ratio": ratio,
                            "patched_range": ps, "stock_range": ss,
                            "round_ratios": each,
                            "median_round_ratio": paired}
        rows.append((f"transactions/s, {size} B payload", p, s,
                     f"{ratio:.3f}" if ratio else "-",
                     f"{paired:.3f}" if paired else "-"))
        if ps and ss:
            spreads.append(f"{size} B: patched {ps[0]} to {ps[1]}, "
                           f"stock {ss[0]} to {ss[1]}")
        if len(each) > 1:
            ahead = sum(r >= 1 for r in each)
            rounds.append(f"{size} B: " +
                          " ".join(f"{r:.3f}" for r in each) +
                          f" (patched ahead or level in {ahead} of "
                          f"{len(each)})")
    for key, label in (("binder_resident_bytes",
                        "binder's resident page bytes after the benchmark"),
                       ("binder_pages_high_watermark",
                        "pages high watermark after the benchmark")):
        p, s = pb.get(key), sb.get(key)
        out["memory"][key] = {"patched": p, "stock": s}
        rows.append((label, p, s, f"{p / s:.2f}" if p and s else "-", ""))
    pmem = patched.get("memory", {}).get("metrics", {})
    smem = stock.get("memory", {}).get("metrics", {})
    p = pmem.get("binder_proc_mem_bytes_per_proc")
    s = smem.get("binder_proc_mem_bytes_per_proc")
    out["memory"]["bytes_per_proc"] = {"patched": p, "stock": s}
    rows.append(("kernel memory per binder_proc, 4 MiB mapped (bytes)", p, s,
                 f"{p / s:.2f}" if p and s else "-", ""))

    if args.markdown:
        print("| | patched | stock | patched / stock | median of the "
              "rounds' ratios |")
        print("|---|--:|--:|--:|--:|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} |")
    else:
        print(f"{'':52} {'patched':>9} {'stock':>9} {'ratio':>6} "
              f"{'rounds':>6}")
        for r in rows:
            print(f"{r[0]:52} {str(r[1]):>9} {str(r[2]):>9} {r[3]:>6} "
                  f"{r[4]:>6}")
    if spreads:
        boots = (patched["bench"]["runs"], stock["bench"]["runs"])
        print(f"transactions/s over the boots ({boots[0]} patched, "
              f"{boots[1]} stock): " + "; ".join(spreads))
    if rounds:
        print("patched / stock, round by round: " + "; ".join(rounds))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    print(f"{passed} {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
