#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-linkd's mutating actions land in the suite's audit ledger, written by the real
alopex-brokerd on the private bus: D-Bus methods (with the caller's uid and the arguments),
profile applies and reloads, checkpoint rollbacks (asked, on expiry, and overdue at a
restart). The ledger never holds linkd up: with the broker SIGSTOPped or gone, methods
still answer at once (and Version and GetAll too), and the records arrive once the broker
is back. The ledger file is read directly (JSON lines), not through linkd or alopexctl."""
import json
import os
import signal
import time

import alopex_harness as h
from linkd_env import MANAGER, ROOT, SERVICE, dbus_send, expect_ok, ifindex, start_linkd, veth

tap = h.Tap()
CP = 'org.alopex.Link1.Checkpoints'
PROMPT = 2.0   # seconds a method may take while the broker is away (it takes ms)

PROFILE = """# SPDX-License-Identifier: GPL-2.0-or-later
[match]
name = "lgp0"

[link]
mtu = 1400
"""


def broker_toml(sb):
    return f"""# SPDX-License-Identifier: GPL-2.0-or-later
[limits]
record_burst = 10000
record_rate = 10000

[ledger]
path = "{sb.path('ledger', 'ledger.jsonl')}"

[record]
callers = ["root"]
"""


def start_broker(sb):
    sb.broker = sb.start_broker(broker_toml(sb))


def setup(sb):
    sb.start_bus()
    sb.start_polkit()
    os.makedirs(sb.path('ledger'), mode=0o755, exist_ok=True)
    start_broker(sb)
    os.makedirs(os.path.join(sb.config_dir, 'links'), exist_ok=True)
    with open(os.path.join(sb.config_dir, 'links', '10-lg.toml'), 'w') as f:
        f.write(PROFILE)
    veth(sb, 'lgp0', 'lgp1')
    start_linkd(sb)


def records(sb):
    try:
        with open(sb.path('ledger', 'ledger.jsonl'), encoding='utf-8') as f:
            return [json.loads(line) for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


def wait_record(sb, action, pred=lambda d: True, timeout=20, after=0):
    """The first record after index `after` with `action` whose parsed details satisfy
    pred; fails after `timeout` seconds."""
    def found():
        for r in records(sb)[after:]:
            if r['action'] == action:
                d = json.loads(r['details'])
                if pred(d):
                    return r, d
        return None
    return h.wait_until(found, timeout, 0.05, f'a ledger record {action}')


def checkpoint_create(sb, timeout):
    ok, name, out = dbus_send(sb, 'CheckpointCreate', f'uint32:{timeout}', iface=CP)
    h.check(ok, f'CheckpointCreate: {name} {out}')
    return out.split('object path "')[1].split('"')[0]


def timed(fn, *args, **kw):
    t0 = time.monotonic()
    res = fn(*args, **kw)
    return res, time.monotonic() - t0


def busctl_ok(sb, *args):
    rc, out, err = sb.busctl(*args)
    h.check_eq(rc, 0, f'busctl {" ".join(args)}: {err}')
    return out


@tap.test('the profile applied at start and every mutating method are recorded, with uid and arguments')
def _(sb):
    _, d = wait_record(sb, 'link.profile.apply', lambda d: any('lgp0' in w for w in d['what']))
    h.check(d['requests'] >= 1, f'requests: {d}')
    a = ifindex(sb, 'lgp1')
    n = len(records(sb))
    expect_ok(dbus_send(sb, 'SetMtu', f'int32:{a}', 'uint32:1280'), 'SetMtu')
    expect_ok(dbus_send(sb, 'AddAddress', f'int32:{a}', 'string:192.0.2.7/24'), 'AddAddress')
    expect_ok(dbus_send(sb, 'SetZone', f'int32:{a}', 'string:lab'), 'SetZone')
    busctl_ok(sb, 'call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}', 'lgbr0', 'bridge', '1', 'stp', 'b',
              'true')
    r, d = wait_record(sb, 'link.SetMtu', after=n)
    h.check_eq(d['uid'], 0, 'uid of the caller')
    h.check(d['sender'].startswith(':'), f'sender {d["sender"]}')
    h.check_eq(d['args'], {'ifindex': a, 'mtu': 1280}, 'SetMtu arguments')
    h.check_eq(r['actor'] != '', True, 'the broker stamped an actor')
    _, d = wait_record(sb, 'link.AddAddress', after=n)
    h.check_eq(d['args'], {'ifindex': a, 'address': '192.0.2.7/24'}, 'AddAddress arguments')
    _, d = wait_record(sb, 'link.SetZone', after=n)
    h.check_eq(d['args'], {'ifindex': a, 'zone': 'lab'}, 'SetZone arguments')
    _, d = wait_record(sb, 'link.CreateNetdev', after=n)
    h.check_eq(d['args'], {'name': 'lgbr0', 'kind': 'bridge', 'options': {'stp': True}}, 'CreateNetdev arguments')
    # A refused call changes nothing and is not recorded as an action.
    m = len(records(sb))
    ok, _, _ = dbus_send(sb, 'SetMtu', f'int32:{a}', 'uint32:12')
    h.check(not ok, 'SetMtu 12 refused')
    expect_ok(dbus_send(sb, 'SetLinkUp', f'int32:{a}'), 'SetLinkUp')
    wait_record(sb, 'link.SetLinkUp', after=m)
    h.check_eq([x['action'] for x in records(sb)[m:] if x['action'] == 'link.SetMtu'], [], 'no record of the refusal')


@tap.test('Reload is recorded, with the profile reload it caused')
def _(sb):
    n = len(records(sb))
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')
    _, d = wait_record(sb, 'link.Reload', after=n)
    h.check_eq(d['uid'], 0, 'uid')
    _, d = wait_record(sb, 'link.profile.reload', after=n)
    h.check(d['dir'].endswith('links'), f'dir {d}')


@tap.test('checkpoints: create, rollback asked, rollback on expiry are recorded')
def _(sb):
    n = len(records(sb))
    path = checkpoint_create(sb, 60)
    _, d = wait_record(sb, 'link.CheckpointCreate', after=n)
    h.check_eq((d['args'], d['result']), ({'timeout_s': 60}, path), 'arguments and the checkpoint made')
    expect_ok(dbus_send(sb, 'CheckpointRollback', f'objpath:{path}', iface=CP), 'CheckpointRollback')
    _, d = wait_record(sb, 'link.checkpoint.rollback', lambda d: d['checkpoint'] == path, after=n)
    h.check_eq(d['why'], 'asked', 'why')
    wait_record(sb, 'link.CheckpointRollback', lambda d: d['args'] == {'checkpoint': path}, after=n)

    path = checkpoint_create(sb, 1)
    _, d = wait_record(sb, 'link.checkpoint.rollback', lambda d: d['checkpoint'] == path, after=n)
    h.check_eq(d['why'], 'not confirmed in time', 'why')


@tap.test('a checkpoint overdue when linkd restarts is rolled back and recorded')
def _(sb):
    n = len(records(sb))
    path = checkpoint_create(sb, 1)
    deadline = time.monotonic() + 1.2   # the checkpoint's 1 s, and a margin
    os.kill(sb.linkd.pid, signal.SIGKILL)
    h.wait_until(lambda: not sb.linkd.alive(), 10, what='linkd gone')
    h.wait_until(lambda: not sb.name_has_owner(SERVICE), 10, what='the name released')
    h.wait_until(lambda: time.monotonic() > deadline, 10, 0.05, 'the deadline passed with linkd gone')
    start_linkd(sb)
    _, d = wait_record(sb, 'link.checkpoint.rollback', lambda d: d['checkpoint'] == path, after=n)
    h.check_eq(d['why'], 'overdue when linkd started', 'why')


@tap.test('broker SIGSTOPped: methods, Version and GetAll answer at once; the records come after SIGCONT')
def _(sb):
    a = ifindex(sb, 'lgp1')
    n = len(records(sb))
    os.kill(sb.broker.pid, signal.SIGSTOP)
    try:
        for mtu in (1290, 1291, 1292):
            res, took = timed(dbus_send, sb, 'SetMtu', f'int32:{a}', f'uint32:{mtu}')
            expect_ok(res, f'SetMtu {mtu}')
            h.check(took < PROMPT, f'SetMtu took {took:.2f} s with the broker stopped')
        h.check_eq(ip_mtu(sb, 'lgp1'), 1292, 'the kernel has the last MTU (ip -j)')
        out, took = timed(busctl_ok, sb, 'call', SERVICE, ROOT, MANAGER, 'Version')
        h.check(out.startswith('s "') and took < PROMPT, f'Version: {out} in {took:.2f} s')
        out, took = timed(busctl_ok, sb, 'call', SERVICE, ROOT, 'org.freedesktop.DBus.Properties', 'GetAll', 's',
                          MANAGER)
        h.check('Connectivity' in out and took < PROMPT, f'GetAll in {took:.2f} s')
        h.check_eq([r for r in records(sb)[n:] if r['action'] == 'link.SetMtu'], [], 'nothing recorded yet')
    finally:
        os.kill(sb.broker.pid, signal.SIGCONT)
    for mtu in (1290, 1291, 1292):
        wait_record(sb, 'link.SetMtu', lambda d, mtu=mtu: d['args'] == {'ifindex': a, 'mtu': mtu}, after=n)
    got = [json.loads(r['details'])['args']['mtu'] for r in records(sb)[n:] if r['action'] == 'link.SetMtu']
    h.check_eq(got, [1290, 1291, 1292], 'in order, each once')


@tap.test('broker gone: methods answer at once; the records land when it is back')
def _(sb):
    a = ifindex(sb, 'lgp1')
    sb.broker.stop()
    h.wait_until(lambda: not sb.name_has_owner('org.alopex.Broker1'), 10, what='broker gone')
    n = len(records(sb))
    res, took = timed(dbus_send, sb, 'SetMtu', f'int32:{a}', 'uint32:1333')
    expect_ok(res, 'SetMtu')
    h.check(took < PROMPT, f'SetMtu took {took:.2f} s with no broker')
    h.check_eq(ip_mtu(sb, 'lgp1'), 1333, 'the kernel has the MTU (ip -j)')
    start_broker(sb)
    wait_record(sb, 'link.SetMtu', lambda d: d['args'] == {'ifindex': a, 'mtu': 1333}, after=n)


def ip_mtu(sb, dev):
    rc, out, err = sb.run(['ip', '-j', 'link', 'show', 'dev', dev])
    h.check_eq(rc, 0, err)
    return json.loads(out)[0]['mtu']


if __name__ == '__main__':
    h.main(tap, setup)
