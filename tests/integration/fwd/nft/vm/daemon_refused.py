#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run by guest.sh inside the test VM, not by meson: alopex-fwd as a daemon on a kernel
that refuses a rule fwd accepts. The guest has no nft_nat loaded and module autoloading
switched off, as on a kernel built without NFT_NAT, so every port forward (a DNAT rule) is
refused by the kernel (ENOENT) while fwd's own checks pass it. Each change that holds one
must be refused as a whole (org.alopex.Error.KernelRefused naming that rule), and the
table, the runtime rules and the generation stay as they were; fwd keeps running."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.environ['ALOPEX_SOURCE_DIR'], 'tests/integration/fwd/daemon'))
import alopex_harness as h  # noqa: E402
from fwd_env import (CONFIG, E, call, dbus_send, expect_error, normalized, prop, ruleset,  # noqa: E402
                     runtime_rules, setup, write_config)

tap = h.Tap()
FORWARD = '''[[zones.wan.forwards]]
proto = "tcp"
dport = 8080
to = "10.1.0.5:80"
'''
NO_FORWARDS = CONFIG.replace(FORWARD, '')


def unchanged(sb, before, gen, what):
    h.check_eq(normalized(ruleset(sb)), before, f'ruleset unchanged after {what}')
    h.check_eq(prop(sb, 'Generation'), gen, f'generation unchanged after {what}')
    h.check(sb.fwd.alive(), f'fwd survives {what}')


@tap.test('precondition: this kernel refuses DNAT (no nft_nat, no autoload)', vm=True)
def _(sb):
    h.check(FORWARD in CONFIG, 'fwd_env.CONFIG has no forward to leave out')
    rc, _, err = sb.run(['nft', 'add table ip probe; add chain ip probe c { type nat hook prerouting '
                         'priority -100; }; add rule ip probe c tcp dport 1 dnat to 10.0.0.1'])
    h.check(rc != 0, 'the kernel took a dnat rule: the refusal below is not exercised')
    h.diag(f'nft: {err.strip()}')


@tap.test('AddRule of a rule the kernel refuses: KernelRefused naming it, nothing changed', vm=True)
def _(sb):
    before, gen, listed = normalized(ruleset(sb)), prop(sb, 'Generation'), runtime_rules(sb)
    # A forward (to=) is rule-shaped: a full rebuild holding the one new DNAT rule.
    res = dbus_send(sb, 'AddRule', 'string:zone=wan proto=tcp dport=8081 to=10.1.0.6:80',
                    'uint32:0', 'string:refused')
    expect_error(res, E + 'KernelRefused', 'runtime rule', 'No such file or directory')
    unchanged(sb, before, gen, 'the refused AddRule')
    h.check_eq(runtime_rules(sb), listed, 'no runtime rule added')
    h.check('runtime rule' in prop(sb, 'LastError'), f'LastError: {prop(sb, "LastError")}')


@tap.test('Reload and SIGHUP of a file with a port forward: refused whole, the forward named, nothing changed',
          vm=True)
def _(sb):
    before, gen = normalized(ruleset(sb)), prop(sb, 'Generation')
    write_config(sb, CONFIG)   # with its port forward
    res = dbus_send(sb, 'Reload')
    expect_error(res, E + 'KernelRefused', 'zone wan forward 1', 'No such file or directory')
    unchanged(sb, before, gen, 'the refused Reload')
    os.kill(sb.fwd.pid, signal.SIGHUP)
    h.wait_until(lambda: 'zone wan forward 1' in prop(sb, 'LastError') and prop(sb, 'Generation') == gen,
                 timeout=30, what='LastError naming the rule after SIGHUP')
    unchanged(sb, before, gen, 'the refused SIGHUP')
    write_config(sb, NO_FORWARDS)
    rc, _, err = call(sb, 'Reload')
    h.check_eq(rc, 0, f'Reload of the file without the forward: {err}')


if __name__ == '__main__':
    sys.exit(h.main(tap, lambda sb: setup(sb, NO_FORWARDS)))
