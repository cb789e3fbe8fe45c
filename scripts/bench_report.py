#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the SPR-BENCH lines of a guest log into a table and a JSON file.

    bench_report.py [--json OUT] [--machine TEXT] [--markdown] LOG

tests/user/spr_bench prints, for each case, the median, min and max time
per page of its rounds, and the metadata of a 4 MiB range at three
residencies. This script computes the ratios against the floors measured
in the same run and against the page-at-a-time baseline, compares them
with the targets of the benchmark, and prints one table. It asserts
nothing about time: it exits 1 only when the log lacks a case (the run did
not complete), so CI can run it on the short form.
"""
import argparse
import datetime
import json
import re
import sys

SPANS = (1, 16, 256, 1024)
CASES = ("cold_use", "cold_use_pagewise", "warm_use", "stop", "reclaim",
         "reclaim_pagewise", "floor_insert", "floor_insert_batch",
         "floor_lru_del", "floor_lru_add", "floor_zap", "floor_zap_batch")
# Each module path, the floor it is held to, and the per-page floor shown
# beside it.
PATHS = (
    ("cold use", "cold_use", "floor_insert_batch", "floor_insert",
     "cold_use_pagewise"),
    ("warm use", "warm_use", "floor_lru_del", None, None),
    ("stop", "stop", "floor_lru_add", None, None),
    ("reclaim", "reclaim", "floor_zap_batch", "floor_zap",
     "reclaim_pagewise"),
)
REFERENCE_SLOT_BYTES = 32
BENCH = re.compile(r"SPR-BENCH (\w+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)")
MEM = re.compile(r"SPR-BENCH-MEM (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)")
KERNEL = re.compile(r"SPR-KERNEL (\S+)")


def parse(path):
    cases, memory, kernel = {}, [], None
    with open(path, errors="replace") as log:
        for line in log:
            m = BENCH.search(line)
            if m:
                name, pages = m.group(1), int(m.group(2))
                cases.setdefault(name, {})[pages] = {
                    "median_ns": float(m.group(3)),
                    "min_ns": float(m.group(4)),
                    "max_ns": float(m.group(5)),
                    "rounds": int(m.group(6)),
                }
                continue
            m = MEM.search(line)
            if m:
                pct, res, slots, slot_b, page_b, range_b = map(int, m.groups())
                memory.append({
                    "residency_percent": pct, "resident_pages": res,
                    "slots": slots, "slot_bytes": slot_b,
                    "page_meta_bytes": page_b, "range_struct_bytes": range_b,
                    "bytes_per_slot": slot_b / slots,
                    "bytes_per_resident_page":
                        page_b / res if res else None,
                    "total_bytes": slot_b + page_b + range_b,
                    "reference_total_bytes": REFERENCE_SLOT_BYTES * slots,
                })
                continue
            m = KERNEL.search(line)
            if m:
                kernel = m.group(1)
    return cases, memory, kernel


def median(cases, name, span):
    return cases[name][span]["median_ns"]


def ratios(cases):
    out = {}
    for label, case, floor, page_floor, pagewise in PATHS:
        for span in SPANS:
            r = {"ns_per_page": median(cases, case, span),
                 "floor": floor,
                 "floor_ns_per_page": median(cases, floor, span)}
            r["vs_floor"] = r["ns_per_page"] / r["floor_ns_per_page"]
            if page_floor:
                r["page_floor_ns_per_page"] = median(cases, page_floor, span)
                r["vs_page_floor"] = (r["ns_per_page"] /
                                      r["page_floor_ns_per_page"])
            if pagewise:
                r["pagewise_ns_per_page"] = median(cases, pagewise, span)
                r["speedup_vs_pagewise"] = (r["pagewise_ns_per_page"] /
                                            r["ns_per_page"])
                # What a batched path with no cost above the floor would
                # gain: the most that batching can win on this machine.
                r["speedup_bound"] = (r["pagewise_ns_per_page"] /
                                      r["floor_ns_per_page"])
            out.setdefault(case, {})[span] = r
    return out


def targets(rat, memory):
    full = next((m for m in memory if m["residency_percent"] == 100), None)
    t = []

    def add(name, value, limit, ok, bound=None):
        t.append({"target": name, "measured": round(value, 3),
                  "limit": limit, "met": bool(ok)})
        if bound is not None:
            t[-1]["bound"] = round(bound, 3)

    for m in memory:
        add(f"bytes per slot at {m['residency_percent']}% <= 8",
            m["bytes_per_slot"], 8, m["bytes_per_slot"] <= 8)
    if full:
        add("bytes per resident page <= 32",
            full["bytes_per_resident_page"], 32,
            full["bytes_per_resident_page"] <= 32)
    cold = rat["cold_use"][256]
    add("cold use 256 / floor (vm_insert_pages) <= 1.25", cold["vs_floor"],
        1.25, cold["vs_floor"] <= 1.25)
    add("cold use 256: page-at-a-time / batched >= 1.5",
        cold["speedup_vs_pagewise"], 1.5, cold["speedup_vs_pagewise"] >= 1.5,
        cold["speedup_bound"])
    rec = rat["reclaim"][256]
    add("reclaim 256: page-at-a-time / batched >= 2",
        rec["speedup_vs_pagewise"], 2, rec["speedup_vs_pagewise"] >= 2,
        rec["speedup_bound"])
    for case in ("warm_use", "stop"):
        for span in SPANS:
            r = rat[case][span]
            add(f"{case.replace('_', ' ')} {span} / floor <= 1.5",
                r["vs_floor"], 1.5, r["vs_floor"] <= 1.5)
    return t


def table(rat, memory, tgt, md):
    lines = []
    if md:
        lines.append("| path | pages | module ns/page | floor ns/page "
                     "| module/floor | per-page floor | page-at-a-time "
                     "ns/page | speed-up |")
        lines.append("|---|--:|--:|--:|--:|--:|--:|--:|")
    else:
        lines.append(f"{'path':<10} {'pages':>5} {'ns/page':>9} "
                     f"{'floor':>9} {'ratio':>6} {'pg-floor':>9} "
                     f"{'pagewise':>9} {'speedup':>7}")
    for label, case, *_ in PATHS:
        for span in SPANS:
            r = rat[case][span]
            pf = r.get("page_floor_ns_per_page")
            pw = r.get("pagewise_ns_per_page")
            sp = r.get("speedup_vs_pagewise")
            cells = [label, str(span), f"{r['ns_per_page']:.0f}",
                     f"{r['floor_ns_per_page']:.0f}", f"{r['vs_floor']:.2f}",
                     f"{pf:.0f}" if pf else "-", f"{pw:.0f}" if pw else "-",
                     f"{sp:.2f}" if sp else "-"]
            if md:
                lines.append("| " + " | ".join(cells) + " |")
            else:
                lines.append(f"{cells[0]:<10} {cells[1]:>5} {cells[2]:>9} "
                             f"{cells[3]:>9} {cells[4]:>6} {cells[5]:>9} "
                             f"{cells[6]:>9} {cells[7]:>7}")
    lines.append("")
    if md:
        lines.append("| residency | resident pages | slot array | page "
                     "metadata | bytes/slot | bytes/resident page | total "
                     "| reference (32 B/slot) |")
        lines.append("|--:|--:|--:|--:|--:|--:|--:|--:|")
    for m in memory:
        per_page = m["bytes_per_resident_page"]
        cells = [f"{m['residency_percent']}%", str(m["resident_pages"]),
                 f"{m['slot_bytes']} B", f"{m['page_meta_bytes']} B",
                 f"{m['bytes_per_slot']:g}",
                 f"{per_page:g}" if per_page is not None else "-",
                 f"{m['total_bytes']} B", f"{m['reference_total_bytes']} B"]
        if md:
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append("memory {:>5}: {} resident, slots {}, pages {}, "
                         "{} B/slot, {} B/resident page, total {} "
                         "(reference {})".format(*cells))
    lines.append("")
    for t in tgt:
        bound = (f" (at most {t['bound']} here: page-at-a-time / floor)"
                 if "bound" in t else "")
        lines.append(f"{'met   ' if t['met'] else 'MISSED'} {t['target']}: "
                     f"{t['measured']}{bound}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--json")
    ap.add_argument("--machine", default="")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    cases, memory, kernel = parse(args.log)
    missing = [f"{c}/{s}" for c in CASES for s in SPANS
               if s not in cases.get(c, {})]
    if missing or len(memory) != 3:
        print(f"bench_report: incomplete run: missing {missing or ''}"
              f"{'' if len(memory) == 3 else ' memory lines'}",
              file=sys.stderr)
        return 1
    rat = ratios(cases)
    tgt = targets(rat, memory)
    print(table(rat, memory, tgt, args.markdown))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"date": datetime.date.today().isoformat(),
                       "machine": args.machine, "kernel": kernel,
                       "cases": cases, "ratios": rat, "memory": memory,
                       "targets": tgt}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
