#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The harness' own self-test: namespaces, private bus, user switching, cleanup."""
import json
import os
import signal
import subprocess
import sys
import uuid

import alopex_harness as h

SLEEPER = 'import sys, time; time.sleep(1e6)'

tap = h.Tap()


@tap.test('fresh network namespace holds only lo')
def _(sb):
    rc, out, err = sb.run(['ip', '-j', 'link'])
    h.check_eq(rc, 0, f'ip -j link ({err})')
    h.check_eq([l['ifname'] for l in json.loads(out)], ['lo'], 'links')


@tap.test('private bus answers and its socket directory is world-searchable')
def _(sb):
    h.check(sb.bus_address.startswith('unix:path=' + sb.root), sb.bus_address)
    rc, out, err = sb.busctl('list', '--no-pager')
    h.check_eq(rc, 0, f'busctl list ({err})')
    h.check('org.freedesktop.DBus' in out, out)
    h.check(sb.name_has_owner('org.freedesktop.DBus'), 'NameHasOwner(org.freedesktop.DBus)')
    h.check(not sb.name_has_owner('org.alopex.Nobody1'), 'nobody owns org.alopex.Nobody1')
    h.check(os.stat(sb.path('bus')).st_mode & 0o005 == 0o005, 'bus dir mode')
    # The host's system bus is not what clients reach.
    h.check('/run/dbus/system_bus_socket' not in sb.env()['DBUS_SYSTEM_BUS_ADDRESS'], 'address')


@tap.test('suite and test users exist only inside the sandbox')
def _(sb):
    for user in h.SUITE_USERS + list(h.TEST_USERS):
        rc, out, _ = sb.run(['getent', 'passwd', user])
        h.check_eq(rc, 0, f'getent passwd {user}')
        h.check_eq(int(out.split(':')[2]), sb.user(user)[0], f'uid of {user}')
    rc, out, _ = sb.run(['getent', 'group', 'alopex'])
    h.check_eq(rc, 0, 'getent group alopex')
    # The host's files are untouched: /etc/passwd is our copy, bind-mounted privately.
    h.check_eq(os.stat('/etc/passwd').st_ino, os.stat(sb.path('etc', 'passwd')).st_ino,
               '/etc/passwd inode')
    rc, out, _ = sb.run(['findmnt', '-n', '-o', 'TARGET', '/etc/passwd'])
    h.check_eq(out.strip(), '/etc/passwd', 'bind mount')


@tap.test('commands run as another user, with that user\'s groups')
def _(sb):
    uid, gid = sb.user('alopex-test')
    rc, out, err = sb.run(['id', '-u'], as_user='alopex-test')
    h.check_eq((rc, out.strip()), (0, str(uid)), f'id -u ({err})')
    rc, out, _ = sb.run(['id', '-G'], as_user='alopex-test')
    h.check_eq(out.split(), [str(gid)], 'alopex-test has no extra groups')
    rc, out, _ = sb.run(['id', '-Gn'], as_user='alopex-netdev')
    h.check('netdev' in out.split(), f'alopex-netdev groups: {out}')
    # ... and reach the private bus as that user: the bus sees that user's UID and pid
    # for a connection the user's process holds (the probe, run as alopex-test).
    probe = sb.start_daemon('tests/harness/alopex-test-polkit-probe', name='probe-as-user',
                            args=['--name', 'org.alopex.TestUser1'], as_user='alopex-test',
                            wait_name='org.alopex.TestUser1')
    try:
        dbus = ('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus')
        rc, data, err = sb.call(*dbus, 'GetNameOwner', 's', 'org.alopex.TestUser1',
                                as_user='alopex-test')
        h.check_eq(rc, 0, f'GetNameOwner as alopex-test ({err})')
        unique = data[0]
        h.check(unique.startswith(':'), f'unique name {unique!r}')
        rc, data, err = sb.call(*dbus, 'GetConnectionUnixUser', 's', unique,
                                as_user='alopex-test')
        h.check_eq((rc, data), (0, [uid]), f'GetConnectionUnixUser({unique}) ({err})')
        rc, data, err = sb.call(*dbus, 'GetConnectionCredentials', 's', unique)
        h.check_eq(rc, 0, f'GetConnectionCredentials ({err})')
        creds = {k: v['data'] for k, v in data[0].items()}
        h.check_eq((creds.get('UnixUserID'), creds.get('ProcessID')), (uid, probe.pid),
                   f'credentials of {unique}: {creds}')
        # Root's own connection is reported as uid 0, not as alopex-test: the answer
        # depends on the connection asked about.
        rc, data, err = sb.call(*dbus, 'GetConnectionUnixUser', 's', 'org.freedesktop.DBus')
        h.check_eq((rc, data), (0, [0]), f'uid of the bus itself ({err})')
    finally:
        probe.stop()   # stays in sb.procs: its log is still checked for sanitizer reports


@tap.test('properties are read and waited for through busctl')
def _(sb):
    args = ('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus')
    ifaces = sb.get_property(*args, 'Interfaces')
    h.check(isinstance(ifaces, list), f'Interfaces: {ifaces!r}')
    sb.wait_for_property(*args, 'Interfaces', ifaces, timeout=5)
    try:
        sb.wait_for_property(*args, 'Interfaces', ['no.such'], timeout=0.2)
    except TimeoutError:
        pass
    else:
        raise AssertionError('wait_for_property accepted a wrong value')


@tap.test('wait_until polls to a deadline and reports what it waited for')
def _(sb):
    n = []
    h.check_eq(h.wait_until(lambda: n.append(1) or len(n) >= 3, 5, 0.001), True, 'value')
    try:
        h.wait_until(lambda: False, 0.05, 0.01, what='never')
    except TimeoutError as e:
        h.check('never' in str(e), str(e))
    else:
        raise AssertionError('no timeout')


def processes_with(token, also=b''):
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                cmd = f.read()
                if token.encode() in cmd and also in cmd:
                    found.append(int(pid))
        except OSError:
            pass
    return found


@tap.test('daemons (root and other users) die with a killed test')
def _(sb):
    token = f'alopex-harness-{uuid.uuid4().hex}'
    env = sb.env()
    env.pop(h.INSIDE_MARKER, None)
    inner = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--inner', token],
                             env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = inner.stdout.readline()
        h.check_eq(line.strip(), 'READY', 'inner sandbox')
        h.wait_until(lambda: len(processes_with(token, SLEEPER.encode())) == 2, 10,
                     what='both inner daemons running')
        inner.kill()   # the worst case: SIGKILL, no cleanup code runs
        inner.wait()
        h.wait_until(lambda: not processes_with(token), 10, what='inner daemons gone')
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait()


def inner(token):
    h.enter_namespaces()
    with h.Sandbox() as sb:
        sb.start_bus()
        sb.spawn('sleeper-root', [sys.executable, '-c', SLEEPER, token])
        sb.spawn('sleeper-user', [sys.executable, '-c', SLEEPER, token], as_user='alopex-test')
        print('READY', flush=True)
        while True:
            signal.pause()


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--inner':
        inner(sys.argv[2])
    sys.exit(h.main(tap, lambda sb: sb.start_bus()))
