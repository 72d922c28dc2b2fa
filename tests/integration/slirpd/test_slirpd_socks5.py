#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-slirpd's SOCKS5 upstream (issue 12) against Debian's dante-server (danted): the
peer (the kernel's TCP behind the test PPP peer) reaches 198.51.100.1, an address on the
host side that no port map covers, through danted:
- without authentication: curl of a file arrives intact, danted logs the CONNECT; a port
  nobody listens on is refused (danted's "connection refused" becomes a RST);
- with username/password (RFC 1929, the password from slirp.toml's password_file, danted
  checking the system's password database, a private copy bind-mounted in the test's own
  mount namespace): curl works; with a wrong password the connection is refused and
  slirpd logs the proxy's refusal;
- slirpd's own address is never proxied: an unmapped port there is still refused."""
import hashlib
import os
import shutil
import subprocess

import alopex_harness as h
from slirpd_env import PeerNamespace, log_of, serve_file, start_slirpd

tap = h.Tap()
CTX = {}
DEST = '198.51.100.1'
SIZE = 512 << 10

CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), 10).close()
    print('connected')
except ConnectionRefusedError:
    print('refused')
except OSError as e:
    print('error', e)
"""


def danted(sb, name, port, method):
    conf = sb.path(f'{name}.conf')
    with open(conf, 'w') as f:
        f.write(f'logoutput: stderr\ninternal: 127.0.0.1 port = {port}\nexternal: {DEST}\n'
                'user.privileged: root\nuser.unprivileged: nobody\n'
                f'clientmethod: none\nsocksmethod: {method}\n'
                'client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: connect error\n}\n'
                'socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: connect error\n}\n')
    p = sb.spawn(name, ['/usr/sbin/danted', '-f', conf, '-N', '1'])
    h.wait_until(lambda: subprocess.run(['ss', '-Hltn', f'sport = :{port}'], capture_output=True,
                                        text=True).stdout.strip(), 10, 0.05, f'{name} listening')
    return p


def socks_user(sb):
    """A user 'socksuser' with the password 's3cret' in private copies of /etc/passwd and
    /etc/shadow, bind-mounted in the test's own mount namespace (the host's are untouched)."""
    pw = subprocess.run(['openssl', 'passwd', '-6', 's3cret'], capture_output=True, text=True, check=True).stdout.strip()
    for name, line in (('passwd', 'socksuser:x:4999:4999::/nonexistent:/usr/sbin/nologin\n'),
                       ('shadow', f'socksuser:{pw}:19000:0:99999:7:::\n')):
        copy = sb.path(f'etc-{name}')
        shutil.copy(f'/etc/{name}', copy)
        with open(copy, 'a') as f:
            f.write(line)
        sb.bind(copy, f'/etc/{name}')


def link(sb, name, socks):
    config = sb.path(f'{name}.toml')
    with open(config, 'w') as f:
        f.write(socks)
    slirpd, pty = start_slirpd(sb, '--config', config, name=f'slirpd-{name}')
    ns = PeerNamespace(sb, name)
    peer = ns.spawn(f'peer-{name}', sb.build_path('tests/harness/alopex-test-ppp-peer'), pty, 'ppp0')
    h.wait_until(lambda: 'up ' in log_of(peer), 30, 0.05, f'the peer of {name} up')
    r = ns.run('ip', 'route', 'add', '198.51.100.0/24', 'dev', 'ppp0')
    h.check_eq(r.returncode, 0, r.stderr)
    return slirpd, ns


def curl(ns):
    return subprocess.run(ns.argv('curl', '-sS', '--max-time', '60', f'http://{DEST}:8080/file'), capture_output=True,
                          timeout=90)


def counters(slirpd):
    slirpd.stop()
    line = [l for l in log_of(slirpd).splitlines() if 'stopping; counters:' in l][-1]
    return dict(kv.split('=') for kv in line.split('counters:')[1].split() if '=' in kv)


def setup(sb):
    sb.start_bus()
    if not os.path.exists('/usr/sbin/danted'):
        raise h.Skip('danted not installed (Debian package dante-server)')
    # The destination's address on the host side: a veth of the test's own namespace.
    for cmd in (['ip', 'link', 'set', 'lo', 'up'], ['ip', 'link', 'add', 'dst0', 'type', 'veth', 'peer', 'name', 'dst1'],
                ['ip', 'addr', 'add', f'{DEST}/32', 'dev', 'dst0'], ['ip', 'link', 'set', 'dst1', 'up'],
                ['ip', 'link', 'set', 'dst0', 'up']):
        subprocess.run(cmd, check=True)
    CTX['sha'] = serve_file(sb, DEST, 8080, SIZE)
    socks_user(sb)
    CTX['open'] = danted(sb, 'danted-open', 1080, 'none')
    CTX['auth'] = danted(sb, 'danted-auth', 1081, 'username')
    with open(sb.path('good.secret'), 'w') as f:
        f.write('s3cret\n')
    with open(sb.path('bad.secret'), 'w') as f:
        f.write('wrong\n')


@tap.test('no authentication: the peer reaches an unmapped address through danted; a closed port is refused')
def _(sb):
    slirpd, ns = link(sb, 'open', '[socks5]\nserver = "127.0.0.1:1080"\n')
    r = curl(ns)
    h.check_eq(r.returncode, 0, r.stderr.decode()[-300:])
    h.check_eq(hashlib.sha256(r.stdout).hexdigest(), CTX['sha'])
    h.check_eq(ns.run('/usr/bin/python3', '-c', CONNECT, DEST, '9').stdout.strip(), 'refused')
    # slirpd's own address is not proxied: its unmapped ports stay refused.
    h.check_eq(ns.run('/usr/bin/python3', '-c', CONNECT, '10.0.0.1', '23').stdout.strip(), 'refused')
    h.wait_until(lambda: f'{DEST}.8080' in log_of(CTX['open']), 10, 0.05, f'danted logs the CONNECT: '
                 f'{log_of(CTX["open"])[-600:]}')
    c = counters(slirpd)
    h.diag(' '.join(f'{k}={v}' for k, v in c.items() if k.startswith(('socks', 'tcp-re'))))
    h.check(int(c.get('socks-connected', 0)) >= 1 and int(c.get('socks-failed', 0)) == 1, c)


@tap.test('username/password (RFC 1929): the right password connects, a wrong one is refused and logged')
def _(sb):
    slirpd, ns = link(sb, 'auth', '[socks5]\nserver = "127.0.0.1:1081"\nusername = "socksuser"\n'
                                  f'password_file = "{sb.path("good.secret")}"\n')
    r = curl(ns)
    h.check_eq(r.returncode, 0, f'{r.stderr.decode()[-300:]} danted: {log_of(CTX["auth"])[-800:]}')
    h.check_eq(hashlib.sha256(r.stdout).hexdigest(), CTX['sha'])
    h.check('SOCKS5 127.0.0.1:1081 as socksuser' in log_of(slirpd), log_of(slirpd)[-500:])
    h.check('s3cret' not in log_of(slirpd), 'the password is never logged')
    c = counters(slirpd)
    h.check(int(c.get('socks-connected', 0)) >= 1, c)
    slirpd, ns = link(sb, 'badauth', '[socks5]\nserver = "127.0.0.1:1081"\nusername = "socksuser"\n'
                                     f'password_file = "{sb.path("bad.secret")}"\n')
    h.check_eq(ns.run('/usr/bin/python3', '-c', CONNECT, DEST, '8080').stdout.strip(), 'refused')
    h.wait_until(lambda: 'refused the username and password' in log_of(slirpd), 10, 0.05,
                 f'slirpd logs the refusal: {log_of(slirpd)[-500:]}')
    c = counters(slirpd)
    h.check(int(c.get('socks-failed', 0)) == 1 and int(c.get('socks-connected', 0)) == 0, c)


h.main(tap, setup)
