#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Two alopex-slirpds over a pty pair connect two machines with no root and no pppd on
either side (issue 12's client mode): slirpd "near" (host mode, --pty, a port map to an
HTTP server on 127.0.0.1) and slirpd "far" (mode client, an instance on the private bus,
--stdio on near's pty), both run as the unprivileged alopex-slirp. far dials: LCP, then
IPCP gives it 10.0.0.2 and DNS 10.0.0.1 and names near's 10.0.0.1 (its D-Bus properties
say so). far's [listen] port 18080 is taken by another socket when it starts: it listens
on 18081 instead and publishes that (Listeners, and `alopexctl --json slirp status`). curl on far's localhost:18081 reaches
the HTTP server on near's side, data intact, and so does curl on 18100, whose
destination is near's fe80::1 over IPV6CP (an IPv6 map on near's side); a [listen] port
whose destination nothing maps is reset, as is one while the link is down (after near
goes)."""
import hashlib
import json
import os
import socket
import subprocess

import alopex_harness as h
from slirpd_env import log_of, serve, serve_file

tap = h.Tap()
CTX = {}
SERVICE, PATH, IFACE = 'org.alopex.Slirp1.far', '/org/alopex/Slirp1/far', 'org.alopex.Slirp1.Line'
SIZE = 3 << 20
NEAR = '[ppp]\nipv6 = true\n[ports]\n"10.0.0.1:80" = "127.0.0.1:18070"\n"[fe80::1]:80" = "127.0.0.1:18070"\n'
FAR = ('[ppp]\nmode = "client"\nipv6 = true\n[listen]\n"18080" = "peer:80"\n"127.0.0.1:18090" = "10.0.0.1:81"\n'
       '"18100" = "[fe80::1]:80"\n')


def prop(sb, name):
    return sb.get_property(SERVICE, PATH, IFACE, name)


def counters(proc):
    proc.stop()
    line = [l for l in log_of(proc).splitlines() if 'stopping; counters:' in l][-1]
    return {k: int(v) for k, v in (kv.split('=') for kv in line.split('counters:')[1].split() if '=' in kv)}


def curl(port, path='file'):
    return subprocess.run(['curl', '-sS', '--max-time', '60', f'http://127.0.0.1:{port}/{path}'], capture_output=True,
                          timeout=90)


def setup(sb):
    sb.start_bus()
    if not os.path.exists(sb.build_path('daemons/slirpd/alopex-slirpd')):
        raise h.Skip('alopex-slirpd is not built')
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    CTX['sha'] = serve_file(sb, '127.0.0.1', 18070, SIZE)
    # Something else holds 127.0.0.1:18080 before far starts.
    squatter = socket.create_server(('127.0.0.1', 18080))
    serve(sb, squatter, lambda c: c.close())
    near_config = sb.path('near.toml')
    with open(near_config, 'w') as f:
        f.write(NEAR)
    os.chmod(near_config, 0o644)
    ns = sb.notify_socket('near')
    CTX['near'] = sb.spawn('slirpd-near', [sb.build_path('daemons/slirpd/alopex-slirpd'), '--pty', '--config',
                                           near_config], as_user='alopex-slirp', env=sb.env({'NOTIFY_SOCKET': ns.path}))
    ns.start_draining()
    ns.wait_for('READY', '1', timeout=20, proc=CTX['near'])
    pty = [l.split(': ', 1)[1] for l in log_of(CTX['near']).splitlines() if l.startswith('pty: ')][0]
    os.makedirs(os.path.join(sb.config_dir, 'slirp'), exist_ok=True)
    with open(os.path.join(sb.config_dir, 'slirp', 'far.toml'), 'w') as f:
        f.write(FAR)
    fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
    ns = sb.notify_socket('far')
    CTX['far'] = sb.spawn('slirpd-far', [sb.build_path('daemons/slirpd/alopex-slirpd'), '--instance', 'far',
                                         '--stdio'], as_user='alopex-slirp', env=sb.env({'NOTIFY_SOCKET': ns.path}),
                          stdio=fd)
    os.close(fd)
    ns.start_draining()
    ns.wait_for('READY', '1', timeout=20, proc=CTX['far'])


@tap.test('far dials as the client: IPCP gives it 10.0.0.2 and DNS, it learns near\'s address; on D-Bus')
def _(sb):
    h.wait_until(lambda: prop(sb, 'Phase') == 'opened', 30, 0.1,
                 f'far\'s link opened: {log_of(CTX["far"])[-600:]} / near: {log_of(CTX["near"])[-600:]}')
    h.check_eq(prop(sb, 'Mode'), 'client')
    h.check_eq(prop(sb, 'LocalAddress'), '10.0.0.2')
    h.check_eq(prop(sb, 'PeerAddress'), '10.0.0.1')
    h.check_eq(list(prop(sb, 'DnsServers')), ['10.0.0.1'])
    h.check('PPP up: got 10.0.0.2, peer 10.0.0.1, DNS 10.0.0.1' in log_of(CTX['far']), log_of(CTX['far'])[-600:])
    h.check('PPP up: address 10.0.0.1, peer 10.0.0.2' in log_of(CTX['near']), log_of(CTX['near'])[-600:])
    for proc in (CTX['far'], CTX['near']):
        with open(f'/proc/{proc.pid}/status') as f:
            uid = next(l.split()[1] for l in f if l.startswith('Uid:'))
        h.check(uid != '0', f'{proc.name} runs as root')


@tap.test('a taken [listen] port moves to the next free one, published in Listeners')
def _(sb):
    listeners = sorted(tuple(x) for x in prop(sb, 'Listeners'))
    h.check_eq([x[:3] for x in listeners], [('127.0.0.1:18080', '127.0.0.1:18081', 'peer:80'),
                                            ('127.0.0.1:18090', '127.0.0.1:18090', '10.0.0.1:81'),
                                            ('127.0.0.1:18100', '127.0.0.1:18100', '[fe80::1]:80')])
    h.check('[listen] 127.0.0.1:18080 is in use: listening on 127.0.0.1:18081 instead' in log_of(CTX['far']),
            log_of(CTX['far'])[-600:])
    rc, out, err = sb.run([sb.build_path('tools/alopexctl/alopexctl'), '--json', 'slirp', 'status', 'far'])
    h.check_eq(rc, 0, err)
    far = json.loads(out)['instances'][0]
    h.check_eq((far['mode'], far['local_address'], far['peer_address'], far['dns_servers']),
               ('client', '10.0.0.2', '10.0.0.1', ['10.0.0.1']))
    h.check_eq(sorted((x['configured'], x['listening']) for x in far['listeners']),
               [('127.0.0.1:18080', '127.0.0.1:18081'), ('127.0.0.1:18090', '127.0.0.1:18090'),
                ('127.0.0.1:18100', '127.0.0.1:18100')])


@tap.test('curl on far\'s localhost reaches the HTTP server on near\'s side; an unmapped destination is reset')
def _(sb):
    r = curl(18081)
    h.check_eq(r.returncode, 0, r.stderr.decode()[-300:])
    h.check_eq(hashlib.sha256(r.stdout).hexdigest(), CTX['sha'], 'the file came across intact')
    r = curl(18090)
    h.check(r.returncode in (7, 52, 56), f'curl to a destination near does not map: {r.returncode} {r.stderr}')
    accepted = [x for x in prop(sb, 'Listeners') if x[1] == '127.0.0.1:18081'][0][3]
    h.check(accepted >= 1, f'the listener counts the connection: {accepted}')


@tap.test('over IPv6: a [listen] port to near\'s fe80::1 reaches the same server through near\'s IPv6 map')
def _(sb):
    h.wait_until(lambda: 'IPv6 up: ' in log_of(CTX['far']), 20, 0.1, f'far\'s IPV6CP up: {log_of(CTX["far"])[-600:]}')
    h.check('IPv6 up: fe80::1, peer ' in log_of(CTX['near']), log_of(CTX['near'])[-600:])
    r = curl(18100)
    h.check_eq(r.returncode, 0, r.stderr.decode()[-300:])
    h.check_eq(hashlib.sha256(r.stdout).hexdigest(), CTX['sha'], 'the file came across intact over IPv6')


@tap.test('with the other side gone a [listen] connection is reset; the counters of both ends')
def _(sb):
    near = counters(CTX['near'])
    h.check(near.get('tcp-accepted', 0) >= 2 and near.get('bytes-to-host', 0) > 0, near)
    h.check(near.get('ipv6-in', 0) > 100 and near.get('ipv6-out', 0) > 1000, near)
    h.wait_until(lambda: prop(sb, 'Phase') != 'opened', 30, 0.1, 'far sees the link go')
    r = curl(18081)
    h.check(r.returncode in (7, 52, 56), f'curl with the link down: {r.returncode} {r.stderr}')
    far = counters(CTX['far'])
    h.diag(' '.join(f'{k}={v}' for k, v in far.items() if k.startswith(('listen', 'tcp-opened'))))
    h.check(far.get('tcp-opened', 0) >= 3 and far.get('listen-accepted', 0) >= 3, far)
    h.check(far.get('listen-refused', 0) >= 1, far)
    h.check(far.get('bytes-from-host', 0) > 0 and far.get('bytes-to-host', 0) >= SIZE, far)


h.main(tap, setup)
