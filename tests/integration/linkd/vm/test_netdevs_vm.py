#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""linkd's VLAN and bond support against a real kernel that has it: this machine's kernel
may lack 8021q and bonding, so Debian's own kernel boots in a VM (tests/harness/alopex_vm.py)
and runs linkd's netdev tests there with every link kind required (ALOPEX_REQUIRE_NETDEVS=1):
the rtnetlink requests (VLAN on a veth, a bond with a port), CreateNetdev over D-Bus, and
VLAN/bond profiles created and deleted again; each checked with `ip -j` inside the VM."""
import os
import shutil
import sys
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
    env = {k: os.environ.get(k, '') for k in ('ALOPEX_BUILD_DIR', 'ALOPEX_SOURCE_DIR', 'PYTHONPATH', 'CI',
                                              'ASAN_OPTIONS', 'UBSAN_OPTIONS')}
    env['PYTHONDONTWRITEBYTECODE'] = '1'
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


@tap.test('the VM booted Debian\'s kernel and loaded 8021q and bonding')
def _(sb):
    h.check(result('finished') is not None, f'the guest did not finish; console:\n{open(CTX["console"]).read()[-3000:]}')
    for m in ('8021q', 'bonding'):
        h.check_eq((result(f'modprobe-{m}.rc') or '').strip(), '0', f'modprobe {m}: {result(f"modprobe-{m}.txt")}')


@tap.test('rtnetlink requests: VLAN on a veth, bond with a port (linkd-rtnl-kernel, kinds required)')
def _(sb):
    out = check_run('rtnl-kernel')
    h.check('All tests passed' in out, out[-2000:])
    h.check('kernel lacks' not in out, 'a link kind was missing')


@tap.test('D-Bus CreateNetdev of a VLAN (linkd-daemon, 8021q required)')
def _(sb):
    out = check_run('linkd-daemon')
    h.check('not ok' not in out and 'no 8021q' not in out, out[-3000:])


@tap.test('VLAN and bond profiles created with their ports and deleted again (linkd-profiles)')
def _(sb):
    out = check_run('linkd-profiles')
    h.check('not ok' not in out, out[-3000:])
    h.check('ok ' in out and 'a VLAN on a veth and a bond' in out, out[-3000:])
    h.check('not exercised' not in out, 'a link kind was skipped')


h.main(tap, boot)
