#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runtime rules with expiry against real traffic: AddRule("zone=wan proto=tcp dport=8081
action=accept", 2 s, "goal-456") opens 8081 to the peer, and about 2 s later it is closed
and the rule is gone from the kernel and from ListRuntimeRules by itself. A rule with a
60 s expiry survives a kill -9 and restart of fwd (listed once, with the same id and
deadline; in the kernel once; still letting traffic through); RemoveRule removes it, and
RemoveRule of an unknown id is org.alopex.Error.NoSuchId."""
import json
import time

import alopex_harness as h
import fwd_env as f

tap = h.Tap()


def setup(sb):
    f.setup(sb)
    sb.listeners = f.Listeners((8081, 8082, 8083))


def kernel_mentions(sb, port):
    """How many rules and set elements of inet alopex mention the port."""
    items = f.nft_j(sb, 'list', 'table', 'inet', 'alopex')
    n = 0
    for r in f.objects(items, 'rule'):
        if f'{port}' in json.dumps(f.strip_volatile(r['expr'])):
            n += 1
    for kind in ('set', 'map'):
        for s in f.objects(items, kind):
            n += sum(1 for e in s.get('elem', []) if f'{port}' in f.elem_text(e).split(' . ')
                     or f'{port}' in json.dumps(e))
    return n


@tap.test('a 2 s runtime rule opens 8081, then closes it by itself')
def _(sb):
    h.check(not f.connect(sb, f.HOST_ADDR, 8081, timeout=1.0).startswith('OK'), '8081 closed before')
    t0, wall0 = time.monotonic(), time.time()
    rid = f.add_rule(sb, 'zone=wan proto=tcp dport=8081 action=accept', 2, 'goal-456')
    wall1 = time.time()
    h.check(rid > 0, f'id {rid}')
    # The traffic first: the rule lives only 2 s.
    h.check(f.connects(sb, f.HOST_ADDR, 8081), 'connect to 8081 while the rule lives')
    h.check(kernel_mentions(sb, 8081) >= 1, 'the rule is in the kernel')
    listed = [r for r in f.runtime_rules(sb) if r[0] == rid]
    h.check_eq(len(listed), 1, f'rule {rid} in ListRuntimeRules: {f.runtime_rules(sb)}')
    _, zone, spec, comment, expires_us, where = listed[0]
    h.check_eq((zone, comment), ('wan', 'goal-456'), 'zone and comment')
    h.check('8081' in spec, f'spec {spec!r}')
    h.check(wall0 + 2 - 0.2 <= expires_us / 1e6 <= wall1 + 2 + 0.2,
            f'deadline {expires_us / 1e6 - wall0:.2f} s after the call, want 2 s')
    h.diag(f'rule {rid} lives as {where!r}: {spec}')
    # Gone by itself: from the kernel, from the list, and for the traffic.
    h.wait_until(lambda: kernel_mentions(sb, 8081) == 0, 10, 0.02, '8081 gone from the kernel')
    gone_after = time.monotonic() - t0
    h.wait_until(lambda: all(r[0] != rid for r in f.runtime_rules(sb)), 10, 0.05,
                 f'rule {rid} gone from ListRuntimeRules')
    h.diag(f'gone from the kernel {gone_after:.2f} s after AddRule')
    h.check(gone_after >= 1.5, f'gone after {gone_after:.2f} s, before its 2 s expiry')
    got = f.connect(sb, f.HOST_ADDR, 8081, timeout=1.0)
    h.check(not got.startswith('OK'), f'8081 still open after the expiry: {got}')


@tap.test('a 60 s rule survives kill -9 and restart, once; RemoveRule removes it')
def _(sb):
    rid = f.add_rule(sb, f'zone=wan proto=tcp dport=8082 saddr={f.ALLOWED_SRC}/32 action=accept',
                     60, 'survivor')
    before = [r for r in f.runtime_rules(sb) if r[0] == rid]
    h.check_eq(len(before), 1, 'listed once before the restart')
    h.check(f.connects(sb, f.HOST_ADDR, 8082, f.ALLOWED_SRC), '8082 open from the allowed source')
    h.check(not f.connect(sb, f.HOST_ADDR, 8082, f.DENIED_SRC, 1.0).startswith('OK'),
            '8082 closed from another source')
    f.kill9(sb)
    # The table persists while fwd is away (persist flag): the rule still works.
    h.check(kernel_mentions(sb, 8082) == 1, 'the rule stays in the kernel while fwd is dead')
    f.start_fwd(sb)
    after = [r for r in f.runtime_rules(sb) if r[0] == rid]
    h.check_eq(after, before, 'ListRuntimeRules entry after the restart')
    h.check_eq(kernel_mentions(sb, 8082), 1, 'kernel mentions of 8082 after the restart')
    h.check(f.connects(sb, f.HOST_ADDR, 8082, f.ALLOWED_SRC), '8082 open after the restart')
    # A reload keeps it too.
    f.expect_ok(f.reload(sb), 'Reload')
    h.check_eq([r for r in f.runtime_rules(sb) if r[0] == rid], before, 'after Reload')
    h.check_eq(kernel_mentions(sb, 8082), 1, 'kernel mentions of 8082 after Reload')
    f.expect_ok(f.dbus_send(sb, 'RemoveRule', f'uint64:{rid}'), 'RemoveRule')
    h.check(all(r[0] != rid for r in f.runtime_rules(sb)), 'gone from ListRuntimeRules')
    h.check_eq(kernel_mentions(sb, 8082), 0, 'kernel mentions of 8082 after RemoveRule')
    h.check(not f.connect(sb, f.HOST_ADDR, 8082, f.ALLOWED_SRC, 1.0).startswith('OK'),
            '8082 closed after RemoveRule')


@tap.test('a rule-shaped (not element-shaped) runtime rule expires too')
def _(sb):
    # A log action with a source set is no simple element: fwd removes it at the deadline.
    rid = f.add_rule(sb, 'zone=wan proto=tcp dport=8083 saddr=@management action=accept log=yes',
                     2, 'rule-shaped')
    listed = [r for r in f.runtime_rules(sb) if r[0] == rid]
    h.check_eq(len(listed), 1, 'listed')
    h.diag(f'rule {rid} lives as {listed[0][5]!r}')
    h.check(f.connects(sb, f.HOST_ADDR, 8083), '8083 open while it lives')
    h.wait_until(lambda: kernel_mentions(sb, 8083) == 0, 10, 0.02, '8083 gone from the kernel')
    h.wait_until(lambda: all(r[0] != rid for r in f.runtime_rules(sb)), 10, 0.05, 'unlisted')
    h.check(not f.connect(sb, f.HOST_ADDR, 8083, timeout=1.0).startswith('OK'), '8083 closed')


@tap.test('RemoveRule(999999) is org.alopex.Error.NoSuchId')
def _(sb):
    before = f.table_signature(f.nft_j(sb, 'list', 'ruleset'))
    f.expect_error(f.dbus_send(sb, 'RemoveRule', 'uint64:999999'), f.E + 'NoSuchId', '999999')
    h.check_eq(f.table_signature(f.nft_j(sb, 'list', 'ruleset')) == before, True,
               'ruleset unchanged')


@tap.test('the daemon is still running')
def _(sb):
    f.check_alive(sb)


h.main(tap, setup)
