#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints per-suite counts and the closing line 'alopex: N passed, N failed, N skipped'
from meson's testlog.json (one entry per meson test; a TAP script counts once). Exits 1 when anything failed
or when no test ran. For each failed test it first prints the lines of its output that say
what failed (Catch2's FAILED blocks, pytest's assertion and error lines, sanitizer reports),
so that the end of a CI log, which may be all that is kept, tells why."""
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

def main(path):
    passed = failed = skipped = 0
    suites = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
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
    print(f"alopex: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
