#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints per-suite counts and the closing line 'alopex: N passed, N failed, N skipped'
from meson's testlog JSON files (one entry per meson test; a TAP script counts once).
Exits 1 when anything failed or when no test ran. For each failed test it first prints the
lines of its output that say what failed (Catch2's FAILED blocks, pytest's assertion and
error lines, sanitizer reports), so that the end of a CI log, which may be all that is
kept, tells why. Before the closing line it prints the time of each phase (build, each
`meson test` run, given as --phase NAME=SECONDS) and the ten slowest tests, so that every
run shows where the time budget (README "CI time") goes.

    summary.py [--phase NAME=SECONDS]... TESTLOG.json..."""
import json
import re
import sys

# Lines worth keeping from a failed test's output, and how many after each.
_MARKERS = re.compile(r"FAILED:|REQUIRE|CHECK|^E   |Error|error:|ERROR|AssertionError|"
                      r"Traceback|timed out|Timeout|==\d+==|runtime error:|^not ok")


def failure_excerpt(text, limit=40):
    """The lines of a failed test's output around its failure markers, at most `limit`."""
    lines = text.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if _MARKERS.search(line):
            before = 5 if "FAILED:" in line else 1   # Catch2: the test case's name is above
            keep.extend(range(max(0, i - before), min(len(lines), i + 4)))
    picked = sorted(set(keep)) or list(range(max(0, len(lines) - 15), len(lines)))
    out, last = [], -2
    for i in picked:
        if i != last + 1 and out:
            out.append("    ...")
        out.append("    " + lines[i][:300])
        last = i
    if len(out) > limit:
        out = out[:limit] + [f"    ... ({len(out) - limit} more lines in meson-logs/testlog.txt)"]
    return out

def read_tests(paths):
    """The entries of meson's testlog JSON files (one JSON object per line)."""
    tests = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            tests += [json.loads(line) for line in f if line.strip()]
    return tests


def slowest(tests, n=10):
    """Lines for the n slowest tests, slowest first."""
    ranked = sorted(tests, key=lambda t: t.get("duration") or 0, reverse=True)[:n]
    return [f"  {t.get('duration') or 0:7.1f} s  {t.get('name', '?')}" for t in ranked]


def main(argv):
    phases, paths = [], []
    args = iter(argv)
    for a in args:
        if a == "--phase":
            phases.append(next(args).split("=", 1))
        else:
            paths.append(a)
    passed = failed = skipped = 0
    suites = {}
    tests = read_tests(paths)
    for t in tests:
        res = t.get("result", "")
        # meson names tests "project:suite / name"
        name = t.get("name", "?")
        suite = name.split(" / ")[0].split(":")[-1] if " / " in name else "?"
        s = suites.setdefault(suite, [0, 0, 0])
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1; s[0] += 1
        elif res == "SKIP":
            skipped += 1; s[2] += 1
        else:
            failed += 1; s[1] += 1
            print(f"FAILED: {t.get('name')} ({res})")
            text = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
            for line in failure_excerpt(text):
                print(line)
    for name, (p, fl, sk) in sorted(suites.items()):
        print(f"  suite {name}: {p} passed, {fl} failed, {sk} skipped")
    if phases:
        print("time: " + ", ".join(f"{name} {int(sec)} s" for name, sec in phases) +
              f" (total {sum(int(sec) for _, sec in phases)} s)")
    print("ten slowest tests:")
    for line in slowest(tests):
        print(line)
    print(f"alopex: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
