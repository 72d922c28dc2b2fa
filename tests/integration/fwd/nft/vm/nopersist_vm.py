#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""nft::Session on a kernel without NFT_TABLE_F_PERSIST (before 6.9): Debian 12's own
kernel boots in a VM (tests/harness/alopex_vm.py) and runs the nf_tables kernel test's
fallback case there: the kernel refuses the persist flag (EOPNOTSUPP), the session keeps
the table without owner and persist (TableInfo.persist_supported false) so it outlives fwd,
and a full apply builds the same table as on a current kernel; checked with nft inside.
Before nft_nat is loaded (autoloading off), the daemon meets a kernel that refuses
a rule its own checks pass (vm/daemon_refused.py): every such change refused whole."""
import os

import alopex_harness as h
from alopex_vm import GuestRun

tap = h.Tap()
GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'guest.sh')
CTX = {}


def boot(sb):
    CTX['vm'] = GuestRun(sb, GUEST)


def result(name):
    return CTX['vm'].result(name)


def check_run(name):
    return CTX['vm'].check_run(name)


@tap.test('the VM booted a kernel without NFT_TABLE_F_PERSIST and loaded nf_tables')
def _(sb):
    CTX['vm'].check_finished()
    kernel = (result('kernel.txt') or '').strip()
    major, minor = (int(x) for x in kernel.split('-')[0].split('.')[:2])
    h.check((major, minor) < (6, 9), f'kernel {kernel} has persist: the fallback is not exercised')
    h.check('failed' not in (result('modprobe.txt') or ''), result('modprobe.txt'))


@tap.test('without persist the table is kept owner-less, and applies still work')
def _(sb):
    out = check_run('no-persist')
    h.check('All tests passed' in out and 'nothing to fall back from' not in out, out[-2000:])


@tap.test('alopex-fwd on a kernel that refuses DNAT: AddRule, Reload, SIGHUP refused whole, the forward named')
def _(sb):
    out = check_run('daemon-refused')
    h.check('not ok' not in out and 'ok 3 ' in out, out[-3000:])


@tap.test('a full apply on the old kernel: the same table, checked with nft')
def _(sb):
    out = check_run('full-apply')
    h.check('All tests passed' in out, out[-2000:])


h.main(tap, boot)
