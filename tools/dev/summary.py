#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints per-suite counts and the closing line 'alopex: N passed, N failed, N skipped'
from meson's testlog.json (one entry per meson test; a TAP script counts once). Exits 1 when anything failed
or when no test ran."""
import json
import sys

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
    for name, (p, fl, sk) in sorted(suites.items()):
        print(f"  suite {name}: {p} passed, {fl} failed, {sk} skipped")
    print(f"alopex: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
