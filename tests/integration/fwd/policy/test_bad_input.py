#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad input changes nothing: rule specs over D-Bus with a bad port, a bad CIDR, an unknown
zone or an unknown set, and an invalid firewall.toml on Reload, are refused with
org.alopex.Error.InvalidArgument naming the key (or file:line), and `nft -j list ruleset`
is the same before and after (handles included), as are ListRuntimeRules and the
Generation."""
import alopex_harness as h
import fwd_env as f

tap = h.Tap()


def setup(sb):
    f.setup(sb, peer=False)


def snapshot(sb):
    rc, out, err = sb.run(['nft', '-j', 'list', 'ruleset'])
    h.check_eq(rc, 0, f'nft -j list ruleset: {err}')
    return out, f.runtime_rules(sb), f.prop(sb, 'Generation')


def unchanged(sb, before, what):
    after = snapshot(sb)
    h.check_eq(after[1], before[1], f'ListRuntimeRules after {what}')
    h.check_eq(after[2], before[2], f'Generation after {what}')
    h.check(after[0] == before[0], f'nft -j list ruleset changed after {what}:\n'
            f'before: {before[0][:3000]}\nafter: {after[0][:3000]}')


BAD_SPECS = [
    ('bad port', 'zone=wan proto=tcp dport=70000 action=accept', 'dport'),
    ('port 0', 'zone=wan proto=tcp dport=0 action=accept', 'dport'),
    ('bad port range', 'zone=wan proto=tcp dport=90-80 action=accept', 'dport'),
    ('bad CIDR', 'zone=wan proto=tcp dport=80 saddr=10.0.0.300/24 action=accept', 'saddr'),
    ('host bits', 'zone=wan proto=tcp dport=80 saddr=10.70.0.1/24 action=accept', 'saddr'),
    ('unknown zone', 'zone=nosuchzone proto=tcp dport=80 action=accept', 'zone'),
    ('unknown set', 'zone=wan proto=tcp dport=80 saddr=@nosuchset action=accept', 'saddr'),
    ('unknown key', 'zone=wan proto=tcp dport=80 colour=blue action=accept', 'colour'),
    ('bad action', 'zone=wan proto=tcp dport=80 action=maybe', 'action'),
]

for label, spec, key in BAD_SPECS:
    def make(spec=spec, key=key):
        def test(sb):
            before = snapshot(sb)
            res = f.dbus_send(sb, 'AddRule', f'string:{spec}', 'uint32:60', 'string:bad')
            f.expect_error(res, f.E + 'InvalidArgument', key)
            h.diag(res[2])
            unchanged(sb, before, f'AddRule({spec!r})')
        return test
    tap.add(f'AddRule with a {label} -> InvalidArgument naming {key!r}', make())


@tap.test('an invalid firewall.toml on Reload -> InvalidArgument with file:line, rules kept')
def _(sb):
    good = f.policy()
    bad = good.replace('dport = [22, 9090]', 'dport = [22, 99999]')
    h.check(bad != good, 'the bad file differs')
    line = bad.splitlines().index('dport = [22, 99999]') + 1
    before = snapshot(sb)
    try:
        f.write_config(sb, bad)
        res = f.reload(sb)
        f.expect_error(res, f.E + 'InvalidArgument', f'firewall.toml:{line}')
        h.diag(res[2])
        unchanged(sb, before, 'a Reload of an invalid file')
        f.check_alive(sb)
    finally:
        f.write_config(sb, good)
    f.expect_ok(f.reload(sb), 'Reload of the good file')


@tap.test('overlapping networks in a set are merged (not refused by the kernel)')
def _(sb):
    try:
        for mg, want in (('10.0.0.0/8", "10.1.0.0/16', ['10.0.0.0/8']),
                         ('10.0.0.0/24", "10.0.1.0/24', ['10.0.0.0/23'])):
            f.write_config(sb, f.policy(management=mg))
            f.expect_ok(f.reload(sb), f'Reload with management {mg}')
            h.check_eq(f.set_elements(sb, 'set_management4'), want, f'set_management4 for {mg}')
    finally:
        f.write_config(sb, f.policy())
    f.expect_ok(f.reload(sb), 'Reload of the usual file')
    h.check_eq(f.set_elements(sb, 'set_management4'), [f.MANAGEMENT], 'set_management4')


@tap.test('a good AddRule still works afterwards (the refusals left no state behind)')
def _(sb):
    rid = f.add_rule(sb, 'zone=wan proto=tcp dport=8443 action=accept', 60, 'good')
    try:
        h.check(any(r[0] == rid for r in f.runtime_rules(sb)), 'listed')
        h.check('8443' in f.nft(sb, 'list', 'table', 'inet', 'alopex'), 'in the kernel')
    finally:
        f.expect_ok(f.dbus_send(sb, 'RemoveRule', f'uint64:{rid}'), 'RemoveRule')


@tap.test('the daemon is still running')
def _(sb):
    f.check_alive(sb)


h.main(tap, setup)
