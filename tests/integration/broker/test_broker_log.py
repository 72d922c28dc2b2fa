#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the broker tells its service manager and its log: sd_notify (READY=1 once the bus
name is owned, STATUS=, WATCHDOG=1 pings) read from a NOTIFY_SOCKET the harness binds, and
one structured log line per broker operation, allowed or refused, read from its stderr
("alopex-brokerd[PID]: LEVEL: MESSAGE ALOPEX_OP=... ALOPEX_CALLER_UID=... ALOPEX_ID=...
ALOPEX_RESULT=...", see libcommon/src/error_log.cpp and daemons/brokerd/broker.cpp).
Each test reads what it needs from the state it finds, so any order works."""
import os
import sys

import alopex_harness as h
from broker_env import (client, expect_error, log_entries_since, log_offset,
                        setup_with_notify, wait_log_entry, write_bytes)

NA = 'org.alopex.Error.NotAuthorized'
WATCHDOG_USEC = 400000
tap = h.Tap()


@tap.test('sd_notify: READY=1 from the broker\'s pid, sent once its bus name was owned')
def _(sb):
    ns = sb.broker.notify
    ready = ns.find('READY', '1')
    h.check(ready, f'no READY=1 among {ns.drain()}')
    h.check_eq(len(ready), 1, 'READY=1 messages (no reload happened)')
    h.check_eq(ready[0][1], sb.broker.pid, 'sender pid of READY=1 (SCM_CREDENTIALS)')
    h.check_eq(sb.broker.name_owned_at_ready, True,
               'org.alopex.Broker1 was owned when READY=1 arrived')
    statuses = [m[2]['STATUS'] for m in ns.find('STATUS')]
    h.diag(f'STATUS= values: {statuses}')
    h.check(all(statuses), f'an empty STATUS= was sent: {statuses}')
    h.check_eq(ready[0][2].get('STATUS'), 'serving', 'STATUS= sent with READY=1')


@tap.test(f'sd_notify: WATCHDOG=1 repeatedly with WATCHDOG_USEC={WATCHDOG_USEC}')
def _(sb):
    ns = sb.broker.notify
    ready_at = ns.find('READY', '1')[0][0]
    before = len(ns.find('WATCHDOG', '1'))
    pings = ns.wait_for('WATCHDOG', '1', count=before + 2, timeout=10, proc=sb.broker)
    h.check(all(m[1] == sb.broker.pid for m in pings), 'every ping from the broker\'s pid')
    h.check(all(m[0] >= ready_at for m in pings[before:]), 'pings after READY=1')
    gaps = [round((b[0] - a[0]) * 1000) for a, b in zip(pings, pings[1:])]
    h.diag(f'{len(pings)} pings so far; gaps in ms: {gaps[-10:]}')
    # With no WATCHDOG_USEC the broker must not ping at all: covered by every other test
    # script, whose broker gets no NOTIFY_SOCKET; here the pings must keep coming.
    again = len(ns.find('WATCHDOG', '1'))
    ns.wait_for('WATCHDOG', '1', count=again + 1, timeout=10, proc=sb.broker)


def check_entry(sb, e, level, op, user, result):
    h.check_eq((e['ident'], e['pid'], e['level']), ('alopex-brokerd', sb.broker.pid, level),
               f'ident/pid/level of {e}')
    uid = str(sb.user(user)[0]) if user != 'root' else '0'
    h.check_eq((e['fields'].get('ALOPEX_OP'), e['fields'].get('ALOPEX_CALLER_UID'),
                e['fields'].get('ALOPEX_RESULT')), (op, uid, result), f'fields of {e}')
    h.check(op in e['message'], f'message names the operation: {e["message"]!r}')


@tap.test('an allowed WriteManagedFile is logged: info, op, caller uid, id, result ok')
def _(sb):
    off = log_offset(sb)
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:nameserver 192.0.2.9\n',
                      user='alopex-dns'), '', 'write as alopex-dns')
    e = wait_log_entry(sb, off, ALOPEX_OP='WriteManagedFile', ALOPEX_RESULT='ok')
    check_entry(sb, e, 'info', 'WriteManagedFile', 'alopex-dns', 'ok')
    h.check_eq(e['fields'].get('ALOPEX_ID'), 'resolv.conf', 'ALOPEX_ID')
    h.check('allowed' in e['message'], e['message'])
    ops = [x['fields'].get('ALOPEX_OP') for x in log_entries_since(sb, off)]
    h.check_eq(ops.count('WriteManagedFile'), 1, f'one entry per call ({ops})')


@tap.test('a refused WriteManagedFile (NotAuthorized) is logged: notice, error name, uid')
def _(sb):
    off = log_offset(sb)
    expect_error(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:evil', user='alopex-fw'),
                 NA)
    e = wait_log_entry(sb, off, ALOPEX_OP='WriteManagedFile', ALOPEX_RESULT=NA)
    check_entry(sb, e, 'notice', 'WriteManagedFile', 'alopex-fw', NA)
    h.check_eq(e['fields'].get('ALOPEX_ID'), 'resolv.conf', 'ALOPEX_ID')
    h.check(NA in e['message'] and 'resolv.conf' in e['message'], e['message'])
    h.check(not [x for x in log_entries_since(sb, off)
                 if x['fields'].get('ALOPEX_RESULT') == 'ok'], 'no "ok" entry for the refusal')


@tap.test('a refused call is logged once, by the broker with its caller, not again by the bus layer')
def _(sb):
    off = log_offset(sb)
    expect_error(client(sb, 'Record', 's:link.x', 's:y', user='alopex-fw'), NA)
    # A sync point: the broker handles calls in order, so the refusal is all logged by now.
    h.check_eq(client(sb, 'Ping', user='alopex-fw'), '', 'Ping as alopex-fw')
    wait_log_entry(sb, off, ALOPEX_OP='Ping')
    refused = [x for x in log_entries_since(sb, off) if x['fields'].get('ALOPEX_OP') == 'Record']
    h.check_eq(len(refused), 1, f'entries for the refused Record: {refused}')
    h.check_eq(refused[0]['fields'].get('ALOPEX_CALLER_UID'), str(sb.user('alopex-fw')[0]),
               'the entry names the caller')


@tap.test('every other operation is logged, allowed and refused, with its result')
def _(sb):
    blk = sb.path('targets', 'interfaces')
    write_bytes(blk, b'# BEGIN ovs\n# END ovs\n')
    master, slave = os.openpty()
    pty = os.ttyname(slave)
    cases = [  # (method, args, user, client opts, want result, want ALOPEX_ID or None)
        ('Ping', [], 'alopex-fw', [], 'ok', ''),
        ('Version', [], 'alopex-link', [], 'ok', ''),
        ('OpenDevice', [f's:{pty}'], 'alopex-slirp', ['--fd-write', 'x'], 'ok', pty),
        ('OpenDevice', ['s:/dev/null'], 'alopex-slirp', [], NA, '/dev/null'),
        ('OpenDevice', ['s:/dev/pts/../null'], 'alopex-slirp', [],
         'org.alopex.Error.PathNotAllowed', '/dev/pts/../null'),
        ('OpenDevice', [f's:{pty}'], 'alopex-dns', [], NA, pty),
        ('WriteManagedBlock', ['s:interfaces', 's:ovs', 's:auto x'], 'alopex-ovs', [], 'ok',
         'interfaces tag=ovs'),
        ('WriteManagedBlock', ['s:interfaces', 's:ovs', 's:auto x'], 'alopex-dns', [], NA,
         'interfaces tag=ovs'),
        ('WriteManagedBlock', ['s:interfaces', 's:other', 's:auto x'], 'alopex-ovs', [],
         'org.alopex.Error.InvalidArgument', 'interfaces tag=other'),
        ('WriteManagedFile', ['s:nope', 'ay:x'], 'alopex-dns', [], NA, 'nope'),
        ('OpenOvsdb', [], 'alopex-dns', [], NA, None),
        ('Record', ['s:link.test', 's:logged'], 'alopex-link', [], 'ok', 'link.test'),
        ('Record', ['s:link.test', 's:x'], 'alopex-fw', [], NA, 'link.test'),
        ('Record', ['s:bad action', 's:x'], 'alopex-link', [],
         'org.alopex.Error.InvalidArgument', 'bad action'),
    ]
    if sb.ovsdb is not None:
        cases.append(('OpenOvsdb', [], 'alopex-ovs', [], 'ok', None))
    try:
        for method, args, user, opts, result, ident in cases:
            off = log_offset(sb)
            out = client(sb, method, *args, user=user, opts=opts)
            if result == 'ok':
                h.check(not out.startswith('ERROR'), f'{method} as {user}: {out}')
            else:
                expect_error(out, result)
            e = wait_log_entry(sb, off, ALOPEX_OP=method)
            level = 'info' if result == 'ok' else 'notice'
            check_entry(sb, e, level, method, user, result)
            if ident is not None:
                h.check_eq(e['fields'].get('ALOPEX_ID'), ident, f'ALOPEX_ID of {method}')
    finally:
        os.close(master)
        os.close(slave)


@tap.test('a caller the D-Bus policy refuses never reaches the broker, so nothing is logged')
def _(sb):
    off = log_offset(sb)
    rc, _, err = sb.busctl('call', 'org.alopex.Broker1', '/org/alopex/Broker1',
                           'org.alopex.Broker1', 'Ping', as_user='alopex-test')
    h.check(rc != 0 and 'denied' in err.lower(), f'alopex-test Ping: rc={rc} {err}')
    uid = str(sb.user('alopex-test')[0])
    # A sync point: a later logged call proves the broker has processed everything before.
    h.check_eq(client(sb, 'Ping', user='alopex-fw'), '', 'Ping as alopex-fw')
    wait_log_entry(sb, off, ALOPEX_OP='Ping', ALOPEX_CALLER_UID=str(sb.user('alopex-fw')[0]))
    h.check(not [x for x in log_entries_since(sb, off)
                 if x['fields'].get('ALOPEX_CALLER_UID') == uid], 'an entry for alopex-test')


@tap.test('caller-controlled text cannot forge a log line (newlines are escaped)')
def _(sb):
    off = log_offset(sb)
    forged = 'x\nalopex-brokerd[1]: info: forged ALOPEX_OP=WriteManagedBlock ALOPEX_RESULT=ok'
    out = client(sb, 'WriteManagedBlock', 's:interfaces', f's:{forged}', 's:y',
                 user='alopex-ovs')
    expect_error(out, 'org.alopex.Error.InvalidArgument')
    e = wait_log_entry(sb, off, ALOPEX_OP='WriteManagedBlock',
                       ALOPEX_RESULT='org.alopex.Error.InvalidArgument')
    with open(sb.broker.log_path, 'rb') as f:
        f.seek(off)
        text = f.read().decode('utf-8', errors='replace')
    h.check('forged' not in ''.join(l for l in text.splitlines() if l.startswith('alopex-brokerd[1]')),
            f'a forged line appeared: {text!r}')
    h.check(all(x['pid'] == sb.broker.pid for x in log_entries_since(sb, off)),
            'every entry comes from the broker\'s own pid')
    h.diag(f'logged: {e["message"]!r}')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup_with_notify))
