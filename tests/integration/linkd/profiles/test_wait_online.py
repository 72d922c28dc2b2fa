#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-wait-online and `alopexctl link` against a running linkd: waiting for a named
link until it is routable (it must not return before), timing out on one that is not,
waiting for the links a profile manages, and the link commands checked with `ip -j`
(root allowed, an unprivileged user refused with nothing changed)."""
import json
import os
import queue
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'daemon'))
import alopex_harness as h  # noqa: E402
from linkd_env import (dbus_send, expect_ok, full_table, ifindex, ip, ip_j, kill_linkd, setup,  # noqa: E402
                       start_linkd, veth)

tap = h.Tap()


def wait_online(sb, *args):
    return [sb.build_path('tools/wait-online/alopex-wait-online'), *args]


def alopexctl(sb, *args, user=None):
    return sb.run([sb.build_path('tools/alopexctl/alopexctl'), *args], as_user=user)


def addrs(sb, dev):
    return sorted(f"{a['local']}/{a['prefixlen']}" for a in ip_j(sb, 'addr', 'show', 'dev', dev)[0]['addr_info']
                  if a.get('scope') == 'global')


@tap.test('wait-online --interface: returns 0 only once the link is routable')
def _(sb):
    p = subprocess.Popen(wait_online(sb, '--interface', 'wo0', '--timeout', '30'), env=sb.env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x.strip()) for x in p.stderr], daemon=True).start()

    def status(want):
        """Waits for the status line wait-online prints once it has evaluated linkd's state."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line == f'alopex-wait-online: waiting for {want}':
                return
        h.check(False, f'no "waiting for {want}" status line')
    try:
        status('wo0 (absent)')
        h.check(p.poll() is None, 'returned before wo0 existed')
        veth(sb, 'wo0', 'wo0p')
        ip(sb, 'link', 'set', 'wo0', 'up')
        ip(sb, 'link', 'set', 'wo0p', 'up')
        status('wo0')   # it has seen wo0, up without a global address
        h.check(p.poll() is None, 'returned before wo0 had a global address')
        ip(sb, 'addr', 'add', '10.4.0.1/24', 'dev', 'wo0')
        rc = p.wait(timeout=10)
        h.check_eq(rc, 0, 'exit status')
    finally:
        if p.poll() is None:
            p.kill()


@tap.test('wait-online: a link that never becomes routable times out with status 1')
def _(sb):
    start = time.monotonic()
    rc, _, err = sb.run(wait_online(sb, '--interface', 'lo', '--timeout', '1'))
    h.check_eq(rc, 1, f'exit status ({err})')
    h.check('waiting for lo' in err, err)
    h.check(time.monotonic() - start < 10, 'took far longer than its timeout')
    rc, _, err = sb.run(wait_online(sb, '--timeout', 'soon'))
    h.check_eq(rc, 2, f'a bad --timeout is a usage error ({err})')
    rc, _, err = alopexctl(sb, 'wait-online', '--interface', 'absent0', '--timeout', '1')
    h.check_eq(rc, 1, f'alopexctl wait-online passes its options on ({err})')
    h.check('absent0 (absent)' in err, err)


@tap.test('wait-online without --interface waits for the links a profile manages')
def _(sb):
    veth(sb, 'wm0', 'wm0p')
    ip(sb, 'link', 'set', 'wm0p', 'up')
    # An unmanaged link that is up without an address does not hold anything up.
    veth(sb, 'wu0', 'wu0p')
    ip(sb, 'link', 'set', 'wu0', 'up')
    os.makedirs(os.path.join(sb.config_dir, 'links'), exist_ok=True)
    with open(os.path.join(sb.config_dir, 'links', '50-wm.toml'), 'w') as f:
        f.write('[match]\nname = "wm0"\n[ipv4]\naddresses = ["10.3.0.1/24"]\n')
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')
    rc, _, err = sb.run(wait_online(sb, '--timeout', '15'))
    h.check_eq(rc, 0, f'exit status ({err})')
    h.check_eq(addrs(sb, 'wm0'), ['10.3.0.1/24'], 'the managed link is configured')


@tap.test("wait-online waits for linkd's Startup to end, not only for its name")
def _(sb):
    # wm0 (managed, routable) stays configured while linkd restarts; with a full routing
    # table linkd's Startup lasts 0.1-0.2 s after READY=1, and online must wait for it.
    kill_linkd(sb)
    full_table(sb, 3)
    p = subprocess.Popen(wait_online(sb, '--timeout', '30'), env=sb.env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        start_linkd(sb, started=False)
        rc = p.wait(timeout=30)
        err = p.stderr.read()
        h.check_eq(rc, 0, f'exit status ({err})')
        # Startup ended (STATUS= "following N links") before wait-online said online.
        h.check(any(m[2]['STATUS'].startswith('following ') for m in sb.linkd.notify.find('STATUS')),
                f'wait-online returned during Startup ({err})')
    finally:
        if p.poll() is None:
            p.kill()
        kill_linkd(sb)
        ip(sb, 'route', 'flush', 'proto', '186')
        start_linkd(sb)


@tap.test('alopexctl link: list and show agree with ip -j; changes as root, refused for a user')
def _(sb):
    veth(sb, 'cl0', 'cl0p')
    idx = ifindex(sb, 'cl0')
    rc, out, err = alopexctl(sb, '--json', 'link', 'list')
    h.check_eq(rc, 0, err)
    listed = {l['name']: l for l in json.loads(out)['links']}
    for l in ip_j(sb, 'link'):
        h.check(l['ifname'] in listed, f"{l['ifname']} missing from alopexctl link list")
        h.check_eq(listed[l['ifname']]['ifindex'], l['ifindex'], f"index of {l['ifname']}")
        h.check_eq(listed[l['ifname']]['mtu'], l['mtu'], f"mtu of {l['ifname']}")
    rc, out, err = alopexctl(sb, 'link', 'show', str(idx))
    h.check_eq(rc, 0, err)
    h.check(out.startswith(f'{idx}: cl0\n'), out)
    h.check_eq(alopexctl(sb, 'link', 'up', 'cl0')[0], 0, 'link up')
    h.check_eq(alopexctl(sb, 'link', 'set', 'cl0', 'mtu', '1280')[0], 0, 'set mtu')
    h.check_eq(alopexctl(sb, 'link', 'addr', 'add', 'cl0', '10.2.0.1/24')[0], 0, 'addr add')
    link = ip_j(sb, 'link', 'show', 'dev', 'cl0')[0]
    h.check('UP' in link['flags'], f"flags {link['flags']}")
    h.check_eq(link['mtu'], 1280, 'mtu')
    h.check_eq(addrs(sb, 'cl0'), ['10.2.0.1/24'], 'addresses')
    rc, _, err = alopexctl(sb, 'link', 'addr', 'add', 'cl0', '10.2.9.1/24', user='alopex-test')
    h.check_eq(rc, 3, f'an unprivileged user is refused ({err})')
    h.check('org.alopex.Error.NotAuthorized' in err, err)
    h.check_eq(addrs(sb, 'cl0'), ['10.2.0.1/24'], 'nothing changed')
    rc, _, err = alopexctl(sb, 'link', 'down', 'nosuch0')
    h.check_eq(rc, 3, err)
    h.check('org.alopex.Error.NoSuchLink' in err, err)


h.main(tap, setup)
