#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check scripts/kunit_results.py's verdicts on made-up kernel logs.

    kunit_results_test.py

A KCSAN report that names no function of the module or of binder is the
kernel's own and must not fail the run; one that names one in a stack must,
as must any other report. The suite's one expected WARN_ON_ONCE passes
only after its marker. Prints one line per failed expectation, then
"passed failed".
"""
import json
import os
import subprocess
import sys
import tempfile

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "scripts", "kunit_results.py")
LINE = "=" * 66
MARKER = "spr-kunit: expecting one WARN_ON_ONCE from spr_stop_using_range"
WARN = ("WARNING: CPU: 1 PID: 42 at drivers/android/shrinkable_page_range/"
        "shrinkable_page_range.c:497 spr_stop_using_range_locked+0x5a/0x90")


def kcsan(frames):
    """A KCSAN report with @frames in its one stack."""
    return ([LINE, f"BUG: KCSAN: data-race in {frames[0]}", "",
             "race at unknown origin, with read to 0xffffffff8571d063 of 1 "
             "bytes by task 10 on cpu 0:"] +
            [" " + f for f in frames] +
            ["", "value changed: 0x01 -> 0x00", "",
             "Reported by Kernel Concurrency Sanitizer on:",
             "CPU: 0 UID: 0 PID: 10 Comm: kworker/0:1 Not tainted 6.12.118",
             LINE])


CASES = {
    # name: (log lines, expected exit status)
    "clean": (["KTAP version 1", "ok 1 shrinkable_page_range"], 0),
    "kernel's own race": (kcsan(["vprintk_emit+0x2c1/0x430",
                                 "_printk+0x5f/0x80",
                                 "psmouse_connect+0x59f/0x730"]) +
                          ["KTAP version 1", "    # Subtest: "
                           "shrinkable_page_range"], 0),
    "race in the module": (kcsan(["list_lru_add+0x40/0x120",
                                  "spr_make_available+0x31/0x80",
                                  "spr_stop_using_range_locked+0x50/0x90"]),
                           1),
    "race in binder": (kcsan(["binder_alloc_new_buf+0x77/0x300",
                              "binder_transaction+0x3dc/0x2f00"]), 1),
    "expected warning": ([MARKER, WARN], 0),
    "warning before the marker": ([WARN, MARKER], 1),
    "another report": (["BUG: kernel NULL pointer dereference, address: 0"],
                       1),
}


def main():
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        results = os.path.join(directory, "results.json")
        with open(results, "w") as f:
            json.dump({"name": "main", "sub_groups": [
                {"name": "shrinkable_page_range",
                 "test_cases": [{"name": "spr_test_a", "status": "PASS"}]}]},
                f)
        for name, (lines, want) in CASES.items():
            log = os.path.join(directory, "test.log")
            with open(log, "w") as f:
                f.write("\n".join(lines) + "\n")
            run = subprocess.run([sys.executable, RESULTS, results, log],
                                 capture_output=True, text=True, check=False)
            if run.returncode != want or not run.stdout.endswith("1 0 0\n"):
                failures.append(f"{name}: exit {run.returncode}, expected "
                                f"{want}; output {run.stdout!r}")
    for what in failures:
        print(f"FAIL  {what}")
    print(f"{len(CASES) - len(failures)} {len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
