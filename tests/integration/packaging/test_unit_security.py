#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Scores every unit of units/ with `systemd-analyze security --offline=yes` and fails
any unit whose exposure is above its threshold. systemd-networkd scores 2.8 on the same
tool; the root broker must stay at or below 3.0, every other daemon at or below 2.0.

Reads the units as configured in the build tree (ALOPEX_BUILD_DIR/units), and checks that
every unit template in the source tree (ALOPEX_SOURCE_DIR/units/*.in) was configured.
Touches nothing outside the build tree.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get('ALOPEX_SOURCE_DIR', '.'), 'tests', 'harness'))
from alopex_tap import Skip, Tap, check, diag, skip_all  # noqa: E402

# Exposure (0.0 - 10.0) allowed per unit; units not listed get DEFAULT_THRESHOLD.
THRESHOLDS = {
    'alopex-brokerd.service': 3.0,
}
DEFAULT_THRESHOLD = 2.0
# The capabilities a unit may hold (AmbientCapabilities= and CapabilityBoundingSet= both
# exactly this set): what its code uses, nothing more. linkd: rtnetlink changes, the DHCP
# client's packet socket and its UDP socket on port 68 (CAP_NET_BROADCAST is unused).
CAPABILITIES = {
    'alopex-linkd.service': {'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'},
}
UNIT_SUFFIXES = ('.service', '.socket', '.timer', '.path', '.mount', '.target')
OVERALL = re.compile(r'Overall exposure level for (\S+): (\d+(?:\.\d+)?)')

SOURCE = os.environ.get('ALOPEX_SOURCE_DIR', '.')
BUILD = os.environ.get('ALOPEX_BUILD_DIR', '.')


def unit_names():
    names = set()
    for f in os.listdir(os.path.join(SOURCE, 'units')):
        base = f[:-3] if f.endswith('.in') else f
        if base.endswith(UNIT_SUFFIXES):
            names.add(base)
    return sorted(names)


def exposure(path):
    r = subprocess.run(['systemd-analyze', 'security', '--offline=yes', '--no-pager', path],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, SYSTEMD_COLORS='0', LC_ALL='C.UTF-8'))
    m = OVERALL.search(r.stdout)
    if not m:
        raise AssertionError(f'no exposure in the output of systemd-analyze for {path} '
                             f'(rc {r.returncode}):\n{r.stdout}\n{r.stderr}')
    return float(m.group(2)), r.stdout


def score_test(name):
    def run():
        path = os.path.join(BUILD, 'units', name)
        check(os.path.exists(path), f'{name} is not configured in the build tree ({path})')
        limit = THRESHOLDS.get(name, DEFAULT_THRESHOLD)
        score, out = exposure(path)
        diag(f'{name}: exposure {score} (threshold {limit})')
        if score > limit:
            bad = [l for l in out.splitlines() if l.startswith('✗')]
            raise AssertionError(f'{name}: exposure {score} > {limit}\n' + '\n'.join(bad))
    return run


def capabilities_test(name, wanted):
    def run():
        with open(os.path.join(BUILD, 'units', name)) as f:
            text = f.read()
        for key in ('AmbientCapabilities', 'CapabilityBoundingSet'):
            values = re.findall(rf'^{key}=(.*)$', text, flags=re.M)
            got = set(' '.join(values).split())
            check(got == wanted, f'{name}: {key}= is {sorted(got)}, wanted {sorted(wanted)}')
    return run


def verify_test(name):
    """systemd-analyze verify prints (and ignores) unknown keys and bad values: a typo in
    a sandboxing directive would silently weaken the unit, so any output fails. ExecStart
    points at the install location, which need not exist here: it is replaced by
    /bin/true in a copy inside the build tree."""
    def run():
        # Every unit of the suite sits beside the one verified, so the suite's own
        # dependencies (alopex-wait-online Requires= alopex-linkd) resolve.
        tmpdir = os.path.join(BUILD, 'tests', 'integration', 'packaging', 'verify')
        os.makedirs(tmpdir, exist_ok=True)
        copies = []
        for other in unit_names():
            src = os.path.join(BUILD, 'units', other)
            if not os.path.exists(src):
                continue
            with open(src) as f:
                text = re.sub(r'^(Exec\w+=[-@:+!]*)\S+', r'\1/bin/true', f.read(), flags=re.M)
            copies.append(os.path.join(tmpdir, other))
            with open(copies[-1], 'w') as f:
                f.write(text)
        try:
            r = subprocess.run(['systemd-analyze', 'verify', '--man=no', os.path.join(tmpdir, name)],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, SYSTEMD_COLORS='0'))
        finally:
            for c in copies:
                os.unlink(c)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and not out,
              f'systemd-analyze verify {name}: rc {r.returncode}\n{out}')
    return run


def main():
    tap = Tap()
    if shutil.which('systemd-analyze') is None:
        return skip_all('systemd-analyze is not installed')   # a failure under CI=true
    names = unit_names()

    def has_units():
        check(names, 'units/ holds no unit')
        check('alopex-brokerd.service' in names, 'the broker unit is missing')
    tap.add('units/ holds the broker unit', has_units)

    for n in names:
        tap.add(f'{n} exposure within its threshold', score_test(n))
        tap.add(f'{n} passes systemd-analyze verify without a warning', verify_test(n))

    for n, caps in sorted(CAPABILITIES.items()):
        tap.add(f'{n} holds exactly the capabilities it uses', capabilities_test(n, caps))

    def threshold_table_current():
        stale = sorted((set(THRESHOLDS) | set(CAPABILITIES)) - set(names))
        check(not stale, f'thresholds for units that do not exist: {stale}')
    tap.add('every threshold names an existing unit', threshold_table_current)

    def detects_a_bad_unit():
        # The test itself must be able to fail: a bare unit scores far above 2.0.
        tmp = os.path.join(BUILD, 'tests', 'integration', 'packaging')
        os.makedirs(tmp, exist_ok=True)
        bare = os.path.join(tmp, 'alopex-bare-probe.service')
        with open(bare, 'w') as f:
            f.write('[Service]\nExecStart=/bin/true\n')
        try:
            score, _ = exposure(bare)
        finally:
            os.unlink(bare)
        check(score > DEFAULT_THRESHOLD, f'a bare unit scored {score}')
    tap.add('a unit without sandboxing scores above the threshold', detects_a_bad_unit)

    return 1 if tap.run() else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Skip as e:
        sys.exit(skip_all(str(e), e.optional))
