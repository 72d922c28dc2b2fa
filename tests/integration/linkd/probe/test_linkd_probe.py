#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The connectivity probe of alopex-linkd (linkd.toml [connectivity] probe): a veth into
a peer namespace, an address and a default route via the peer, a TCP listener there.
Probing off keeps "limited"; a reachable endpoint makes "full"; a refused one "limited"
again after the next probe; a changed default route re-probes at once; an invalid
linkd.toml is refused at Reload() (the old settings stay) and at start (exit 1 with
file:line:col on stderr). Connectivity is read over D-Bus with busctl, the probes'
arrival is seen by the listener itself."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'daemon'))
import alopex_harness as h  # noqa: E402
from linkd_env import dbus_send, expect_error, expect_ok, ip, mprop  # noqa: E402
import linkd_env  # noqa: E402

tap = h.Tap()
CTX = {}
PEER_ADDR, HOST_ADDR, PORT = '10.77.0.1', '10.77.0.2', 8080

LISTENER = f'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('{PEER_ADDR}', {PORT}))
s.listen(16)
print('listening', flush=True)
while True:
    c, a = s.accept()
    print('accepted', a[0], flush=True)
    c.close()
'''


def peer(*argv):
    subprocess.run(['nsenter', '-t', str(CTX['holder'].pid), '-n', *argv], check=True)


def start_listener(sb):
    n = CTX['listeners'] = CTX.get('listeners', 0) + 1
    p = sb.spawn(f'listener-{n}', ['nsenter', '-t', str(CTX['holder'].pid), '-n',
                                   '/usr/bin/python3', '-u', '-c', LISTENER])
    h.wait_until(lambda: 'listening' in p.log(), 10, 0.02, 'the listener in the peer namespace')
    CTX['listener'] = p
    return p


def accepted(p):
    return p.log(10**6).count('accepted ' + HOST_ADDR)


def write_settings(sb, text):
    with open(os.path.join(sb.config_dir, 'linkd.toml'), 'w') as f:
        f.write(text)


def connectivity(sb):
    return mprop(sb, 'Connectivity')


def wait_connectivity(sb, want, timeout=10):
    h.wait_until(lambda: connectivity(sb) == want, timeout, 0.05, f'Connectivity == {want!r}')


def has_default(sb):
    return any(r['dst'] == 'default' and r.get('gateway') == PEER_ADDR
               for r in linkd_env.ip_j(sb, 'route', 'show'))


GOOD = f'[connectivity]\nprobe = "{PEER_ADDR}:{PORT}"\ninterval = 5\ntimeout = 2\n'


def setup(sb):
    holder = sb.spawn('netns-holder', ['unshare', '--net', '--', 'sleep', 'infinity'])
    CTX['holder'] = holder
    h.wait_until(lambda: os.readlink(f'/proc/{holder.pid}/ns/net') != os.readlink('/proc/self/ns/net'),
                 what='peer namespace')
    ip(sb, 'link', 'add', 'pr0', 'type', 'veth', 'peer', 'name', 'pr1')
    ip(sb, 'link', 'set', 'pr1', 'netns', str(holder.pid))
    peer('ip', 'link', 'set', 'lo', 'up')
    peer('ip', 'addr', 'add', f'{PEER_ADDR}/24', 'dev', 'pr1')
    peer('ip', 'link', 'set', 'pr1', 'up')
    ip(sb, 'link', 'set', 'pr0', 'up')
    ip(sb, 'addr', 'add', f'{HOST_ADDR}/24', 'dev', 'pr0')
    ip(sb, 'route', 'add', 'default', 'via', PEER_ADDR)
    start_listener(sb)
    # The peer answers before linkd starts (an independent check of the path).
    rc, _, err = sb.run(['/usr/bin/python3', '-c',
                         f'import socket; socket.create_connection(("{PEER_ADDR}", {PORT}), 5)'])
    h.check_eq(rc, 0, f'a plain connect to the listener ({err})')
    linkd_env.setup(sb)   # no linkd.toml: probing off


@tap.test('no linkd.toml: probing off, "limited" with a default route, nothing probed')
def _(sb):
    wait_connectivity(sb, 'limited')
    h.check(has_default(sb), 'the default route via the peer is there')
    before = accepted(CTX['listener'])
    # A bounded observation, not a wait for something: it must never turn "full".
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        h.check_eq(connectivity(sb), 'limited', 'Connectivity without a probe')
        time.sleep(0.1)
    h.check_eq(accepted(CTX['listener']), before, 'connections reaching the listener (plus the setup check)')


@tap.test('a reachable endpoint makes "full" (Reload() reads linkd.toml)')
def _(sb):
    write_settings(sb, GOOD)
    before = accepted(CTX['listener'])
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')
    wait_connectivity(sb, 'full')
    h.check(accepted(CTX['listener']) > before, 'the listener saw the probe from the host address')


@tap.test('the listener stops (connection refused): "limited" after the next probe')
def _(sb):
    CTX['listener'].stop()
    start = time.monotonic()
    wait_connectivity(sb, 'limited', timeout=15)   # interval 5 s
    h.diag(f'limited after {time.monotonic() - start:.1f}s')
    h.check('not reachable' in sb.linkd.log(10**6), 'the transition is logged')


@tap.test('a new default route re-probes at once; its removal clears the result')
def _(sb):
    p = start_listener(sb)
    wait_connectivity(sb, 'full', timeout=15)   # the next periodic probe finds it again
    ip(sb, 'route', 'del', 'default')
    wait_connectivity(sb, 'limited')
    start = time.monotonic()
    ip(sb, 'route', 'add', 'default', 'via', PEER_ADDR)
    wait_connectivity(sb, 'full', timeout=10)
    took = time.monotonic() - start
    h.check(took < 4, f'full after {took:.1f}s: sooner than the 5 s interval would allow')
    h.check(accepted(p) >= 1, 'the new listener saw the probe')
    ip(sb, 'route', 'del', 'default')
    wait_connectivity(sb, 'limited')
    ip(sb, 'route', 'add', 'default', 'via', PEER_ADDR)
    wait_connectivity(sb, 'full')


@tap.test('a routing daemon\'s default route counts (protocol bgp); its other routes are not followed')
def _(sb):
    # A table as FRR installs it: prefixes, then a default route, protocol bgp. linkd
    # passes over the prefixes unparsed (libcommon's RouteFilter) but must see the default.
    path = os.path.join(sb.state_dir, 'bgp.batch')
    with open(path, 'w') as f:
        f.writelines(f'route add 10.{100 + i // 256}.{i % 256}.0/24 via {PEER_ADDR} proto bgp\n' for i in range(500))
    ip(sb, '-batch', path)
    ip(sb, 'route', 'del', 'default')
    wait_connectivity(sb, 'limited')
    ip(sb, 'route', 'add', 'default', 'via', PEER_ADDR, 'proto', 'bgp')
    wait_connectivity(sb, 'full')
    ip(sb, 'route', 'del', 'default', 'proto', 'bgp')
    wait_connectivity(sb, 'limited')
    ip(sb, 'route', 'flush', 'proto', 'bgp')
    ip(sb, 'route', 'add', 'default', 'via', PEER_ADDR)
    wait_connectivity(sb, 'full')


@tap.test('an invalid linkd.toml at Reload() is refused with file:line:col; the old settings stay')
def _(sb):
    write_settings(sb, '[connectivity]\nprobe = "probe.example:443"\n')
    res = dbus_send(sb, 'Reload')
    expect_error(res, 'org.alopex.Error.InvalidArgument', 'linkd.toml:2:', 'host names')
    h.check('linkd.toml:2:' in sb.linkd.log(10**6), 'the refusal is logged')
    h.check_eq(connectivity(sb), 'full', 'still probing the old endpoint')
    write_settings(sb, '[connectivity]\nprobe = ""\n')
    expect_ok(dbus_send(sb, 'Reload'), 'Reload with probing off')
    wait_connectivity(sb, 'limited')


@tap.test('an invalid linkd.toml at start: exit status 1, file:line:col on stderr')
def _(sb):
    sb.linkd.stop()
    write_settings(sb, '[connectivity]\nprobe = "192.0.2.1:443"\n\n[netlink]\nreceive_buffer = 12\n')
    rc, out, err = sb.run([sb.build_path('daemons/linkd/alopex-linkd')], timeout=30)
    h.check_eq(rc, 1, f'exit status ({err})')
    h.check('linkd.toml:5:' in err and 'receive_buffer' in err, err)
    write_settings(sb, '[netlink]\nunknown = 1\n')
    rc, _, err = sb.run([sb.build_path('daemons/linkd/alopex-linkd')], timeout=30)
    h.check_eq(rc, 1, f'exit status ({err})')
    h.check('linkd.toml:2:' in err and "unknown key 'unknown'" in err, err)


@tap.test('a small [netlink] receive_buffer is accepted; linkd starts and probes')
def _(sb):
    write_settings(sb, GOOD + '[netlink]\nreceive_buffer = 4096\n')
    linkd_env.start_linkd(sb)
    wait_connectivity(sb, 'full')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
