#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every test that needs Debian's kernel, in ONE boot of the test VM (tests/harness/
alopex_vm.py; a boot under software emulation costs a minute or more, so no area boots its
own). meson passes the scenarios as triples NAME GUEST_SH CHECKS_PY (the areas append them
to vm_scenarios). The VM runs each scenario's guest.sh in turn, then each CHECKS_PY's
register(tap, vm) reports what its scenario did as TAP tests of their own, named
'NAME: ...'. When the VM cannot boot (no qemu, kernel or busybox) the script skips: a
failure under CI=true."""
import importlib.util
import sys

import alopex_harness as h
from alopex_vm import GuestRun


class Prefixed:
    """The Tap seen by one scenario's register(): its tests are named 'NAME: test'."""

    def __init__(self, tap, prefix):
        self._tap, self._prefix = tap, prefix

    def test(self, name):
        return self._tap.test(f'{self._prefix}: {name}')


def load(path, name):
    spec = importlib.util.spec_from_file_location(name.replace('-', '_'), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv):
    if len(argv) % 3 != 0 or not argv:
        sys.exit(f'usage: {sys.argv[0]} (NAME GUEST_SH CHECKS_PY)...')
    scenarios = [tuple(argv[i:i + 3]) for i in range(0, len(argv), 3)]
    tap = h.Tap()
    ctx = {}
    for name, _, checks in scenarios:
        load(checks, name).register(Prefixed(tap, name), lambda name=name: ctx['vm'].scenario(name))

    def boot(sb):
        ctx['vm'] = GuestRun(sb, [(name, guest) for name, guest, _ in scenarios],
                             timeout=300 + 600 * len(scenarios))
    h.main(tap, boot)


if __name__ == '__main__':
    main(sys.argv[1:])
