#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""linkd's VLAN and bond support against a real kernel that has it: this machine's kernel
may lack 8021q and bonding, so Debian's own kernel boots in a VM (tests/harness/alopex_vm.py)
and runs linkd's netdev tests there with every link kind required (ALOPEX_REQUIRE_NETDEVS=1):
the rtnetlink requests (VLAN on a veth, a bond with a port), CreateNetdev over D-Bus, and
VLAN/bond profiles created and deleted again; each checked with `ip -j` inside the VM."""
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


@tap.test('the VM booted Debian\'s kernel and loaded 8021q and bonding')
def _(sb):
    CTX['vm'].check_finished()
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
