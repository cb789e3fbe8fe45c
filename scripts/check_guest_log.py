#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the serial log of a QEMU guest booted with tests/qemu/init.

    check_guest_log.py [--label NAME] [--quiet] LOG

Counts every "SPR-CHECK PASS|FAIL <name> [details]" line the guest printed,
and every kselftest result line ("ok N name", "not ok N name"; a SKIP
counts as a failure) as the check ksft_<name>,
and adds three checks of its own:

  guest_done          the guest printed SPR-DONE (else it hung or crashed)
  guest_dmesg_clean   the kernel log between SPR-DMESG-BEGIN and
                      SPR-DMESG-END has no report: the patterns of
                      kunit_results.py, plus any other stack dump (an OOM
                      kill, an allocation failure, a lockup)
  guest_untainted     /proc/sys/kernel/tainted has no flag but O and E
                      (out-of-tree, unsigned: the test modules are both)

Prints each check (only the failures with --quiet), each failure with the
log lines before it, and a last line "passed failed" for the caller. Exits
1 when anything failed.
"""
import argparse
import re
import sys

# Importing the sibling would leave a __pycache__ in the repository.
sys.dont_write_bytecode = True
from kunit_results import REPORT  # noqa: E402

# Beyond kunit_results.REPORT: dumps that the debug kernel reports under
# another name, or that only a real kernel under memory pressure prints.
GUEST_REPORT = re.compile(
    r"Call Trace:|invoked oom-killer|Out of memory|page allocation failure|"
    r"soft lockup|hard LOCKUP|blocked for more than|self-detected stall|"
    r"detected stalls|Bad page")
# A report's own context: later matches this close are the same report.
REPORT_SPAN = 40
CHECK = re.compile(r"SPR-CHECK (PASS|FAIL) (\S+) ?(.*)")
# A kselftest (TAP) result, as the kernel's binderfs selftest prints it.
KSFT = re.compile(r"^(not )?ok \d+ (\S+)(.*)")
TAINT = re.compile(r"SPR-TAINT (\d+)")
# TAINT_OOT_MODULE (O) and TAINT_UNSIGNED_MODULE (E).
TAINT_ALLOWED = (1 << 12) | (1 << 13)
TAINT_FLAGS = "PFSRMBUDAWCIOELKXTN"
# SeaBIOS clears the screen on the serial line before Linux starts.
ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")


class Result:
    def __init__(self, label, quiet):
        self.label = label
        self.quiet = quiet
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, details="", context=()):
        if ok:
            self.passed += 1
            if not self.quiet:
                print(f"PASS  {self.label}: {name}")
            return
        self.failed += 1
        print(f"FAIL  {self.label}: {name} {details}".rstrip())
        for line in context:
            print("      " + line)


def split_log(lines):
    """The console lines and the dmesg lines (None when not printed)."""
    console, dmesg, inside = [], None, False
    for line in lines:
        if "SPR-DMESG-BEGIN" in line:
            inside, dmesg = True, []
        elif "SPR-DMESG-END" in line:
            inside = False
        elif inside:
            dmesg.append(line)
        else:
            console.append(line)
    return console, dmesg


def find_reports(lines):
    """Each kernel report in lines, as a list of its lines with context."""
    reports, last = [], -REPORT_SPAN
    for i, line in enumerate(lines):
        if not (REPORT.search(line) or GUEST_REPORT.search(line)):
            continue
        if i < last + REPORT_SPAN:
            continue
        last = i
        reports.append(lines[max(0, i - 2):i + 14])
    return reports


def check_programs(result, console):
    for i, line in enumerate(console):
        context = [c for c in console[max(0, i - 8):i]
                   if c.strip() and not CHECK.search(c)]
        m = CHECK.search(line)
        if m:
            result.check(m.group(1) == "PASS", m.group(2), m.group(3),
                         context)
            continue
        # A skipped kselftest did not pass.
        m = KSFT.match(line)
        if m:
            result.check(not m.group(1) and "# SKIP" not in m.group(3),
                         "ksft_" + m.group(2), m.group(3).strip(), context)


def check_taint(result, console):
    values = [int(m.group(1)) for m in map(TAINT.search, console) if m]
    if not values:
        result.check(False, "guest_untainted", "no SPR-TAINT line")
        return
    bad = values[-1] & ~TAINT_ALLOWED
    flags = "".join(f for bit, f in enumerate(TAINT_FLAGS) if bad >> bit & 1)
    result.check(bad == 0, "guest_untainted",
                 f"tainted {values[-1]} (flags {flags})")


def check_log(path, label, quiet=False):
    result = Result(label, quiet)
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError as e:
        result.check(False, "guest_log", str(e))
        return result
    lines = [ESCAPE.sub("", line).rstrip("\r")
             for line in text.split("\n")]
    console, dmesg = split_log(lines)
    check_programs(result, console)
    done = any("SPR-DONE" in line for line in console)
    result.check(done, "guest_done", "no SPR-DONE: the guest hung or crashed",
                 console[-30:])
    if dmesg is None:
        # No dmesg: whatever reached the console is all there is.
        reports = find_reports(console)
        result.check(False, "guest_dmesg_clean",
                     f"no SPR-DMESG section; {len(reports)} report(s) "
                     "on the console",
                     [line for r in reports for line in r + ["--"]])
    else:
        reports = find_reports(dmesg)
        result.check(not reports, "guest_dmesg_clean",
                     f"{len(reports)} kernel report(s) in the guest's dmesg",
                     [line for r in reports for line in r + ["--"]])
    check_taint(result, console)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="qemu")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the failed checks")
    parser.add_argument("log")
    args = parser.parse_args()
    result = check_log(args.log, args.label, args.quiet)
    print(f"{result.passed} {result.failed}")
    sys.exit(1 if result.failed else 0)


if __name__ == "__main__":
    main()
