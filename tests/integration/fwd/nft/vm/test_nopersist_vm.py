#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""nft::Session on a kernel without NFT_TABLE_F_PERSIST (before 6.9): Debian 12's own
kernel boots in a VM (tests/harness/alopex_vm.py) and runs the nf_tables kernel test's
fallback case there: the kernel refuses the persist flag (EOPNOTSUPP), the session keeps
the table without owner and persist (TableInfo.persist_supported false) so it outlives fwd,
and a full apply builds the same table as on a current kernel; checked with nft inside."""
import os
import shutil
import tempfile

import alopex_harness as h
from alopex_vm import MISSING, Vm

tap = h.Tap()
GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'guest.sh')
CTX = {}


def boot(sb):
    vm = Vm.find()
    if vm is None:
        raise h.Skip(MISSING)
    results = tempfile.mkdtemp(prefix='alopex-vm-results-')
    CTX['results'] = results
    env = {k: os.environ.get(k, '') for k in ('ALOPEX_BUILD_DIR', 'ALOPEX_SOURCE_DIR', 'CI',
                                              'ASAN_OPTIONS', 'UBSAN_OPTIONS')}
    with open(os.path.join(results, 'env'), 'w') as f:
        f.writelines(f"{k}='{v}'\n" for k, v in env.items())
    shutil.copy(GUEST, os.path.join(results, 'guest.sh'))
    console = sb.path('log', 'vm-console.log')
    CTX['console'] = console
    rc = vm.run(results, 'sh /run/results/guest.sh', timeout=900, log_path=console,
                binds=[os.environ['ALOPEX_SOURCE_DIR'], os.environ['ALOPEX_BUILD_DIR']])
    h.diag(f'VM: {vm.kernel}, qemu exit {rc}, accel {os.environ.get("ALOPEX_VM_ACCEL", "tcg")}')


def result(name):
    path = os.path.join(CTX['results'], name)
    return open(path, errors='replace').read() if os.path.exists(path) else None


def check_run(name):
    rc = result(f'{name}.rc')
    out = result(f'{name}.out') or ''
    h.check(rc is not None, f'{name} did not run in the VM; console:\n{open(CTX["console"]).read()[-3000:]}')
    h.check_eq(rc.strip(), '0', f'{name} in the VM:\n{out[-6000:]}')
    return out


@tap.test('the VM booted a kernel without NFT_TABLE_F_PERSIST and loaded nf_tables')
def _(sb):
    h.check(result('finished') is not None, f'the guest did not finish; console:\n{open(CTX["console"]).read()[-3000:]}')
    kernel = (result('kernel.txt') or '').strip()
    major, minor = (int(x) for x in kernel.split('-')[0].split('.')[:2])
    h.check((major, minor) < (6, 9), f'kernel {kernel} has persist: the fallback is not exercised')
    h.check('failed' not in (result('modprobe.txt') or ''), result('modprobe.txt'))


@tap.test('without persist the table is kept owner-less, and applies still work')
def _(sb):
    out = check_run('no-persist')
    h.check('All tests passed' in out and 'nothing to fall back from' not in out, out[-2000:])


@tap.test('a full apply on the old kernel: the same table, checked with nft')
def _(sb):
    out = check_run('full-apply')
    h.check('All tests passed' in out, out[-2000:])


h.main(tap, boot)
