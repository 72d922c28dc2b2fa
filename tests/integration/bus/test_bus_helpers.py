#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libcommon's bus::Service (coalesced PropertiesChanged, Service::emit) on a real bus, through
the probe (tests/harness/polkit_probe.cpp), watched by an independent observer (`busctl monitor --json=short`): the probe's Bump(n) changes two
properties n times in one handler, so exactly one PropertiesChanged must carry both final
values, and its Bumped signal must carry the same values. Each test reads the probe's
current state first, so any order works."""
import json
import sys

import alopex_harness as h

DEST = ['org.alopex.Test1', '/org/alopex/Test1', 'org.alopex.Test1']
tap = h.Tap()


class Monitor:
    """busctl monitor of org.alopex.Test1; messages() parses its JSON lines so far."""

    def __init__(self, sb):
        self.sb = sb
        self.proc = sb.spawn('busctl-monitor', ['busctl', f'--address={sb.bus_address}',
                                                '--json=short', 'monitor', DEST[0]])
        # Ready once it has seen a call we made after starting it.
        h.wait_until(lambda: self.fence(timeout=0.5, quiet=True) is not None, 20, 0,
                     'busctl monitor to see our calls')

    def messages(self):
        with open(self.proc.log_path, errors='replace') as f:
            lines = f.read().split('\n')[:-1]   # the last piece may be a line half written
        return [json.loads(line) for line in lines if line.startswith('{')]

    def fence(self, timeout=10, quiet=False):
        """Calls Pending() and waits until the monitor shows the probe's reply to it;
        returns that reply's index. Everything the probe sent before replying precedes it
        (one connection's messages keep their order)."""
        def pending_calls(msgs):
            return [m for m in msgs if m['type'] == 'method_call' and m.get('member') == 'Pending']
        n = len(pending_calls(self.messages()))   # ours is the next one (calls are serial)
        rc, _, err = self.sb.busctl('call', *DEST, 'Pending')
        h.check_eq(rc, 0, f'Pending ({err})')

        def reply_index():
            msgs = self.messages()
            calls = pending_calls(msgs)
            if len(calls) <= n:
                return None
            call = calls[n]
            for i, m in enumerate(msgs):
                if m['type'] == 'method_return' and m.get('reply_cookie') == call['cookie'] \
                        and m.get('destination') == call['sender']:
                    return i + 1   # an index one past the reply (0 is never returned)
            return None
        try:
            return h.wait_until(reply_index, timeout, 0.01, 'the Pending reply in the monitor') - 1
        except TimeoutError:
            if quiet:
                return None
            raise


def counter(sb):
    return sb.get_property(*DEST, 'Counter')


def bump(sb, n):
    rc, out, err = sb.busctl('call', *DEST, 'Bump', 'u', str(n))
    h.check_eq((rc, out.strip()), (0, ''), f'Bump({n}) ({err})')


def props_changed(msgs):
    return [m for m in msgs if m['type'] == 'signal' and m.get('member') == 'PropertiesChanged'
            and m.get('interface') == 'org.freedesktop.DBus.Properties']


def signals(msgs, member):
    return [m for m in msgs if m['type'] == 'signal' and m.get('member') == member
            and m.get('interface') == DEST[2]]


def values(pc):
    iface, changed, invalidated = pc['payload']['data']
    return iface, {k: v['data'] for k, v in changed.items()}, invalidated


@tap.test('five changes of two properties in one handler: exactly one PropertiesChanged')
def _(sb):
    mon = sb.monitor
    c0 = counter(sb)
    start = mon.fence()
    bump(sb, 5)
    end = mon.fence()
    window = mon.messages()[start + 1:end]
    pcs = props_changed(window)
    h.check_eq(len(pcs), 1, f'PropertiesChanged between the fences ({pcs})')
    h.check_eq(pcs[0]['path'], DEST[1], 'path')
    h.check_eq(values(pcs[0]), (DEST[2], {'Counter': c0 + 5, 'Label': f'bump-{c0 + 5}'}, []),
               'PropertiesChanged body (final values, nothing invalidated)')
    h.check_eq(counter(sb), c0 + 5, 'Counter read back')


@tap.test('Service::emit: Bumped arrives with its arguments and signature')
def _(sb):
    mon = sb.monitor
    c0 = counter(sb)
    start = mon.fence()
    bump(sb, 3)
    end = mon.fence()
    sigs = signals(mon.messages()[start + 1:end], 'Bumped')
    h.check_eq(len(sigs), 1, f'Bumped signals ({sigs})')
    h.check_eq((sigs[0]['path'], sigs[0]['payload']),
               (DEST[1], {'type': 'us', 'data': [c0 + 3, f'bump-{c0 + 3}']}), 'Bumped')
    h.check('destination' not in sigs[0], 'a broadcast signal has no destination')


@tap.test('changes in separate loop iterations are not merged; no change, no signal')
def _(sb):
    mon = sb.monitor
    c0 = counter(sb)
    start = mon.fence()
    bump(sb, 1)
    bump(sb, 1)
    bump(sb, 0)   # marks nothing: must not emit an empty PropertiesChanged
    end = mon.fence()
    window = mon.messages()[start + 1:end]
    got = [values(p)[1] for p in props_changed(window)]
    h.check_eq(got, [{'Counter': c0 + 1, 'Label': f'bump-{c0 + 1}'},
                     {'Counter': c0 + 2, 'Label': f'bump-{c0 + 2}'}], 'PropertiesChanged bodies')
    h.check_eq([s['payload']['data'] for s in signals(window, 'Bumped')],
               [[c0 + 1, f'bump-{c0 + 1}'], [c0 + 2, f'bump-{c0 + 2}'],
                [c0 + 2, f'bump-{c0 + 2}']], 'Bumped signals, one per call')


def setup(sb):
    sb.start_bus()
    sb.start_daemon('tests/harness/alopex-test-polkit-probe', wait_name='org.alopex.Test1')
    sb.monitor = Monitor(sb)


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
