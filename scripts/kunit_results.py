#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the results of a kunit.py run and check its kernel log.

    kunit_results.py RESULTS.json TEST.log

Prints every test case that did not pass, every kernel report in the log
(lockdep, KASAN, UBSAN, WARNING, BUG, Oops, ...) with its context, and a
last line "passed failed skipped" for the caller. Exits 1 when a case
failed, no case ran, or the log has a report. The one WARN_ON_ONCE that the
suite provokes on purpose is accepted only after the suite's marker line,
only from spr_stop_using_range() (its check is in
spr_stop_using_range_locked()), and only once.

A KCSAN data race whose report names no function of the module, of its
tests or of binder (which the kernel links with it) is printed but not
counted: KCSAN instruments the whole kernel, which races with itself at
boot now and then (printk, seen under a device probe), and that is not
this module's race. One that names such a function in either stack, or in
the report's title, counts like any other report.
"""
import json
import re
import sys

REPORT = re.compile(
    r"WARNING:|BUG:|BUG |Oops|UBSAN:|kernel BUG|Kernel panic|"
    r"INFO: |general protection fault|refcount_t:|list_(add|del) corruption|"
    r"ODEBUG:|kmemleak:.*unreferenced|DEBUG_LOCKS_WARN_ON|"
    r"possible (circular|recursive) locking|inconsistent lock state|"
    r"sleeping function called from invalid context|scheduling while atomic")
EXPECTED_MARKER = "spr-kunit: expecting one WARN_ON_ONCE from spr_stop_using_range"
EXPECTED_WARN = re.compile(
    r"WARNING: CPU: \d+ PID: \d+ at \S*shrinkable_page_range\.c:\d+ "
    r"spr_stop_using_range(_locked)?\+")
KCSAN_START = re.compile(r"BUG: KCSAN: ")
KCSAN_END = re.compile(r"^={20,}$")
# A frame or title of the module, its KUnit suite, or binder.
OURS = re.compile(r"\b(spr_|binder_)\w*\+0x|shrinkable_page_range")


def count(group, totals):
    for case in group.get("test_cases", []):
        status = case.get("status")
        key = {"PASS": "passed", "SKIP": "skipped"}.get(status, "failed")
        totals[key] += 1
        if key != "passed":
            print(f"kunit: {group['name']}.{case['name']}: {status}")
    for sub in group.get("sub_groups", []):
        count(sub, totals)


def kcsan_report(lines, i):
    """The lines of the KCSAN report whose title is lines[i]."""
    end = i + 1
    while end < len(lines) and not KCSAN_END.match(lines[end].strip()):
        end += 1
    return lines[i:end]


def check_log(lines):
    bad = 0
    marker_seen = expected_used = False
    for i, line in enumerate(lines):
        if EXPECTED_MARKER in line:
            marker_seen = True
            continue
        if not REPORT.search(line):
            continue
        # The stack dump that follows the accepted WARN repeats nothing
        # that matches, so accepting the one line is enough.
        if marker_seen and not expected_used and EXPECTED_WARN.search(line):
            expected_used = True
            continue
        if KCSAN_START.search(line):
            report = kcsan_report(lines, i)
            if not any(OURS.search(r) for r in report):
                print("KCSAN report that names no function of the module "
                      "or of binder (not counted):")
                for ctx in report[:12]:
                    print("    " + ctx.rstrip())
                continue
        bad += 1
        print("kernel report in the log:")
        for ctx in lines[max(0, i - 2):i + 12]:
            print("    " + ctx.rstrip())
    return bad


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    try:
        with open(sys.argv[1]) as f:
            count(json.load(f), totals)
    except (OSError, ValueError) as e:
        print(f"kunit: no results: {e}")
    try:
        with open(sys.argv[2], errors="replace") as f:
            reports = check_log(f.readlines())
    except OSError as e:
        print(f"kunit: no kernel log: {e}")
        reports = 1
    print(f"{totals['passed']} {totals['failed']} {totals['skipped']}")
    ok = totals["failed"] == 0 and totals["passed"] > 0 and reports == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
