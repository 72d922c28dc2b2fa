#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-fwd's records in the audit ledger, against the real alopex-brokerd on the
private bus: every mutating method that succeeded (AddRule, RemoveRule,
SetInterfaceZone, Panic on and off, Reload) with the caller's uid and the arguments,
Reload by SIGHUP and the expiry of a runtime rule, each read back from the broker's
ledger file (stamped with fwd's actor by the broker). Recording never holds an action
up: with the broker stopped (SIGSTOP) or gone from the bus, every call still answers at
once, and the records it could not take land once it runs again."""
import json
import os
import signal
import sys
import time

import alopex_harness as h
from fwd_env import call, prop, setup

tap = h.Tap()

BROKER_TOML = '''# SPDX-License-Identifier: GPL-2.0-or-later
[record]
callers = ["root"]
'''
PROMPT_S = 2.0   # an answer "at once": well below any bus or broker timeout


def setup_all(sb):
    setup(sb)
    sb.ledger = os.path.join(sb.state_dir, 'ledger.jsonl')
    sb.broker = sb.start_broker(BROKER_TOML)


def records(sb):
    try:
        with open(sb.ledger, encoding='utf-8') as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def fw_records(sb, since=0):
    return [r for r in records(sb)[since:] if r['action'].startswith('fw.')]


def wait_actions(sb, since, actions, timeout=15):
    """Waits until the fw.* records after `since` include `actions` in this order."""
    def have():
        got = [r['action'] for r in fw_records(sb, since)]
        it = iter(got)
        return all(a in it for a in actions)
    h.wait_until(have, timeout, 0.05,
                 f'records {actions} (have {[r["action"] for r in fw_records(sb, since)]})')
    return fw_records(sb, since)


def details(rec):
    return json.loads(rec['details'])


def timed(sb, method, sig='', *args):
    t0 = time.monotonic()
    rc, data, err = call(sb, method, sig, *args)
    took = time.monotonic() - t0
    h.check_eq(rc, 0, f'{method} {args} ({err})')
    h.check(took < PROMPT_S, f'{method} {args} took {took:.2f} s')
    return data


@tap.test('each mutating method is recorded after it succeeded, with the caller uid and arguments')
def _(sb):
    n = len(records(sb))
    spec_in = 'zone=wan proto=tcp dport=8443 action=accept'
    rule_id = timed(sb, 'AddRule', 'sus', spec_in, 0, 'ledger test')[0]
    timed(sb, 'SetInterfaceZone', 'ss', 'tl0', 'wan')
    timed(sb, 'SetInterfaceZone', 'ss', 'tl0', '')
    timed(sb, 'Panic', 'b', 'true')
    timed(sb, 'Panic', 'b', 'false')
    timed(sb, 'RemoveRule', 't', rule_id)
    timed(sb, 'Reload')
    actions = ['fw.AddRule', 'fw.SetInterfaceZone', 'fw.SetInterfaceZone', 'fw.Panic',
               'fw.Panic', 'fw.RemoveRule', 'fw.Reload']
    recs = wait_actions(sb, n, actions)
    h.check_eq([r['action'] for r in recs], actions, 'exactly these records, in order')
    for r in recs:
        h.check_eq(r['actor'], 'root', f'{r["action"]}: the broker stamps fwd as the actor')
        d = details(r)
        h.check_eq(d.get('uid'), 0, f'{r["action"]}: the caller uid ({d})')
        h.check(str(d.get('sender', '')).startswith(':'), f'{r["action"]}: sender ({d})')
    d = [details(r) for r in recs]
    h.check_eq((d[0]['id'], d[0]['expires_s'], d[0]['comment']), (rule_id, 0, 'ledger test'),
               'AddRule details')
    h.check('dport=8443' in d[0]['spec'] and 'zone=wan' in d[0]['spec'], f'spec {d[0]["spec"]}')
    h.check_eq((d[1]['interface'], d[1]['zone'], d[2]['zone']), ('tl0', 'wan', ''),
               'SetInterfaceZone details')
    h.check_eq((d[3]['on'], d[4]['on']), (True, False), 'Panic on, then off')
    h.check_eq(d[5]['id'], rule_id, 'RemoveRule details')
    h.check_eq(d[6]['generation'], prop(sb, 'Generation'), 'Reload: the generation it made')


@tap.test('a refused call is not recorded')
def _(sb):
    n = len(records(sb))
    rc, _, err = call(sb, 'RemoveRule', 't', 999999)
    h.check(rc != 0, f'RemoveRule of an unknown id failed ({err})')
    timed(sb, 'Panic', 'b', 'true')   # a marker after it: the ledger is up to date then
    timed(sb, 'Panic', 'b', 'false')
    recs = wait_actions(sb, n, ['fw.Panic', 'fw.Panic'])
    h.check_eq([r['action'] for r in recs], ['fw.Panic', 'fw.Panic'], 'no fw.RemoveRule')


@tap.test('Reload by SIGHUP and the expiry of a runtime rule are recorded')
def _(sb):
    n = len(records(sb))
    os.kill(sb.fwd.pid, signal.SIGHUP)
    recs = wait_actions(sb, n, ['fw.Reload'])
    h.check_eq(details(recs[-1]).get('signal'), 'SIGHUP', f'details {recs[-1]["details"]}')
    n = len(records(sb))
    rule_id = timed(sb, 'AddRule', 'sus', 'zone=wan proto=udp dport=5353 action=accept', 1, '')[0]
    recs = wait_actions(sb, n, ['fw.AddRule', 'fw.expire'])
    h.check_eq(details(recs[-1]).get('ids'), [rule_id], f'expired ids {recs[-1]["details"]}')


@tap.test('broker stopped (SIGSTOP): every action answers at once; the records land after SIGCONT')
def _(sb):
    n = len(records(sb))
    pid = sb.broker.popen.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        for on in ('true', 'false', 'true', 'false'):
            timed(sb, 'Panic', 'b', on)
        rule_id = timed(sb, 'AddRule', 'sus', 'zone=wan proto=tcp dport=8444 action=accept', 0, '')[0]
        timed(sb, 'RemoveRule', 't', rule_id)
        h.check_eq(fw_records(sb, n), [], 'nothing written while the broker is stopped')
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_actions(sb, n, ['fw.Panic'] * 4 + ['fw.AddRule', 'fw.RemoveRule'], timeout=30)


@tap.test('broker gone from the bus: actions answer at once; the queued records land when it is back')
def _(sb):
    n = len(records(sb))
    sb.broker.stop()
    h.wait_until(lambda: not sb.name_has_owner('org.alopex.Broker1'), 10, 0.02, 'broker gone')
    for on in ('true', 'false'):
        timed(sb, 'Panic', 'b', on)
    timed(sb, 'SetInterfaceZone', 'ss', 'tl0', 'wan')
    timed(sb, 'SetInterfaceZone', 'ss', 'tl0', '')
    sb.broker = sb.start_broker(BROKER_TOML)
    wait_actions(sb, n, ['fw.Panic', 'fw.Panic', 'fw.SetInterfaceZone', 'fw.SetInterfaceZone'],
                 timeout=30)


if __name__ == '__main__':
    sys.exit(h.main(tap, setup_all))
