#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-slirpd's PPP link against the kernel's own stack (issue 11, first steps): slirpd
serves a pty (--pty); in a peer network namespace alopex-test-ppp-peer opens the pty,
negotiates LCP and IPCP as pppd does by default, and carries packets between the link and
a tun device. The peer gets 10.0.0.2 and DNS 10.0.0.1 from slirpd (checked with `ip -j`),
and ICMP echo from the kernel (a raw socket) to slirpd's 10.0.0.1 comes back with its
data intact, small and large packets alike. Nothing is mapped yet: the kernel's TCP
connect() is refused at once (slirpd's RST) and its UDP gets a port unreachable. DNS
queries to 10.0.0.1 are proxied to the upstreams of alopex-slirp.toml (the first refuses,
the second is a real dnsmasq on 127.0.0.1 in slirpd's namespace): a raw query and
`getent hosts` with the peer's resolv.conf pointing at the DNS server IPCP gave it. With
[ppp] ipv6 = true and the peer's IPV6CP (as pppd's +ipv6), the kernel's ICMPv6 echo to
slirpd's fe80::1 over the tun comes back; curl over IPv6 fetches a file from an IPv4-only
HTTP server that a port map names, and over IPv4 one from an IPv6-only server; DNS
queries over IPv6 to the DNS proxy and to a UDP map are answered from the address and
port asked; an unmapped TCP port is refused at once (slirpd's RST over IPv6) and UDP to
an unmapped port gets a port unreachable."""
import hashlib
import ipaddress
import json
import os
import struct
import subprocess
import time

import alopex_harness as h
from slirpd_env import PeerNamespace, getent_hosts, log_of, serve_file, start_dnsmasq, start_slirpd

tap = h.Tap()
HERE = os.path.dirname(os.path.abspath(__file__))
CTX = {}


def in_peer(sb, *argv):
    return CTX['ns'].run(*argv)


def setup(sb):
    sb.start_bus()
    if not os.path.exists(sb.build_path('daemons/slirpd/alopex-slirpd')):
        raise h.Skip('alopex-slirpd is not built')
    CTX['dnsmasq'] = start_dnsmasq(sb)
    config = sb.path('slirp.toml')
    with open(config, 'w') as f:
        # The first refuses (nothing listens on 127.0.0.2:53): the proxy goes on to the next.
        f.write('[dns]\nupstreams = ["127.0.0.2", "127.0.0.1"]\n')
    CTX['slirpd'], pty = start_slirpd(sb, '--config', config)
    CTX['ns'] = PeerNamespace(sb, 'ppp-peer')
    CTX['peer'] = CTX['ns'].spawn('ppp-peer', sb.build_path('tests/harness/alopex-test-ppp-peer'), pty, 'ppp0')

@tap.test('LCP and IPCP with a pppd-like peer: the peer gets 10.0.0.2 and DNS 10.0.0.1')
def _(sb):
    h.wait_until(lambda: 'up ' in log_of(CTX['peer']), 20, 0.02, 'the peer reports IPCP up')
    h.check('up 10.0.0.2 10.0.0.1' in log_of(CTX['peer']), log_of(CTX['peer']))
    r = in_peer(sb, 'ip', '-j', 'addr', 'show', 'dev', 'ppp0')
    h.check_eq(r.returncode, 0, r.stderr)
    addrs = [(a['local'], a.get('address')) for a in json.loads(r.stdout)[0]['addr_info'] if a['family'] == 'inet']
    h.check_eq(addrs, [('10.0.0.2', '10.0.0.1')], 'ppp0 in the peer namespace')
    h.wait_until(lambda: 'PPP up: address 10.0.0.1, peer 10.0.0.2' in log_of(CTX['slirpd']), 10, 0.02, 'slirpd logs the link up')


@tap.test("the kernel's ICMP echo to slirpd's 10.0.0.1 is answered, data intact")
def _(sb):
    r = in_peer(sb, '/usr/bin/python3', os.path.join(HERE, 'icmp_ping.py'), '10.0.0.1', '5')
    h.diag(r.stdout.strip().replace('\n', ' | '))
    h.check_eq(r.returncode, 0, f'{r.stdout} {r.stderr}')
    h.check_eq(r.stdout.count(' same'), 5, r.stdout)


REFUSED = """
import socket, sys, time
t0 = time.monotonic()
try:
    socket.create_connection(('10.0.0.1', 22), timeout=5)
    print('tcp connected')
except ConnectionRefusedError:
    print(f'tcp refused {time.monotonic() - t0:.3f}')
except OSError as e:
    print(f'tcp {e!r}')
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.connect(('10.0.0.1', 9))
u.send(b'hello')
try:
    u.recv(100)
    print('udp answered')
except ConnectionRefusedError:
    print('udp refused')
except OSError as e:
    print(f'udp {e!r}')
"""


@tap.test("unmapped ports are refused as by a host: TCP connect() refused, UDP port unreachable")
def _(sb):
    r = in_peer(sb, '/usr/bin/python3', '-c', REFUSED)
    h.diag(r.stdout.strip().replace('\n', ' | '))
    h.check_eq(r.returncode, 0, r.stderr)
    lines = r.stdout.split('\n')
    h.check(lines[0].startswith('tcp refused '), r.stdout)
    h.check(float(lines[0].split()[2]) < 2, f'refused at once, not after retransmissions: {lines[0]}')
    h.check_eq(lines[1], 'udp refused', r.stdout)


def dns_query(name, qid=0x4242):
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    for label in name.split('.'):
        q += bytes([len(label)]) + label.encode()
    return q + b'\0' + struct.pack('>HH', 1, 1)


QUERY = """
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(bytes.fromhex(sys.argv[1]), ('10.0.0.1', 53))
data, addr = u.recvfrom(4096)
print(addr[0], addr[1], data.hex())
"""


@tap.test("the peer's DNS queries to 10.0.0.1 reach the host's resolver and come back")
def _(sb):
    q = dns_query('alopex.test')
    t0 = time.monotonic()
    r = in_peer(sb, '/usr/bin/python3', '-c', QUERY, q.hex())
    h.check(time.monotonic() - t0 < 1.5, 'the refusing upstream is skipped at once, not after a timeout')
    h.check_eq(r.returncode, 0, r.stderr)
    src, port, answer = r.stdout.split()
    h.check_eq((src, port), ('10.0.0.1', '53'), 'the answer comes from slirpd\'s address')
    a = bytes.fromhex(answer)
    h.check_eq(a[:2], q[:2], 'the query ID')
    h.check(struct.unpack('>H', a[6:8])[0] >= 1, f'an answer record: {answer}')
    h.check(bytes([192, 0, 2, 7]) in a, f'192.0.2.7 in {answer}')
    h.check('query[A] alopex.test from 127.0.0.1' in log_of(CTX['dnsmasq']), log_of(CTX['dnsmasq'])[-500:])
    # The libc resolver of the peer, with the DNS server IPCP gave it (in a mount
    # namespace of its own: the host's /etc/resolv.conf is not touched).
    r = getent_hosts(sb, CTX['ns'], 'alopex.test')
    h.check_eq(r.returncode, 0, r.stderr)
    h.check(r.stdout.startswith('192.0.2.7'), r.stdout)


REFUSED6 = """
import socket, sys
address, _, scope = sys.argv[1].partition('%')
target = (address, 22, 0, socket.if_nametoindex(scope))
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.settimeout(5)
try:
    t.connect(target)
    print('tcp connected')
except ConnectionRefusedError:
    print('tcp refused')
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.settimeout(5)
u.connect((address, 9, 0, socket.if_nametoindex(scope)))
u.send(b'x')
try:
    u.recv(10)
    print('udp answered')
except ConnectionRefusedError:
    print('udp refused')
"""


QUERY6 = """
import socket, sys
address, _, scope = sys.argv[1].partition('%')
for port in (53, 5353):
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.sendto(bytes.fromhex(sys.argv[2]), (address, port, 0, socket.if_nametoindex(scope)))
    data, addr = u.recvfrom(4096)
    print(addr[0], addr[1], data.hex())
"""


@tap.test("IPv6 through the tun: IPV6CP, ICMPv6 echo; TCP and UDP over IPv6 to IPv4 host sockets as maps say, "
          "IPv4 to an IPv6 one; unmapped ports refused")
def _(sb):
    v4_sha = serve_file(sb, '127.0.0.1', 8085, 300_000)
    v6_sha = serve_file(sb, '::1', 8086, 300_000)
    config = sb.path('slirp-v6.toml')
    with open(config, 'w') as f:
        f.write('[ppp]\nipv6 = true\n[dns]\nupstreams = ["127.0.0.1"]\n'
                '[ports]\n"[fe80::1]:80" = "127.0.0.1:8085"\n"10.0.0.1:8086" = "[::1]:8086"\n'
                '[udp_ports]\n"[fe80::1]:5353" = "127.0.0.1:53"\n')
    slirpd, pty = start_slirpd(sb, '--config', config, name='slirpd-v6')
    ns = PeerNamespace(sb, 'ppp-v6')
    peer = ns.spawn('ppp-peer-v6', sb.build_path('tests/harness/alopex-test-ppp-peer'), pty, 'ppp1', '--ipv6', 'on')
    h.wait_until(lambda: 'ipv6 up ' in log_of(peer), 20, 0.02, f'the peer reports IPV6CP up: {log_of(peer)}')
    ours, theirs = [[str(ipaddress.IPv6Address(a)) for a in l.split()[2:4]]
                    for l in log_of(peer).splitlines() if l.startswith('ipv6 up ')][0]
    h.check_eq(theirs, 'fe80::1', "slirpd's default link-local address")
    h.wait_until(lambda: f'IPv6 up: {theirs}, peer {ours}' in log_of(slirpd), 10, 0.02,
                 f'slirpd logs the same addresses: {log_of(slirpd)[-500:]}')
    r = ns.run('/usr/bin/python3', os.path.join(HERE, 'icmp_ping.py'), f'{theirs}%ppp1', '3')
    h.diag(r.stdout.strip().replace('\n', ' | '))
    h.check_eq(r.returncode, 0, f'{r.stdout} {r.stderr}')
    # The kernel's TCP over IPv6 to an IPv4-only server, and its TCP over IPv4 to an
    # IPv6-only one, each a whole file.
    for url, sha in ((f'http://[{theirs}%25ppp1]:80/file', v4_sha), ('http://10.0.0.1:8086/file', v6_sha)):
        r = subprocess.run(ns.argv('curl', '-gsS', '--max-time', '60', url), capture_output=True, env=sb.env(),
                           timeout=90)
        h.check_eq(r.returncode, 0, f'{url}: {r.stderr[-300:]}')
        h.check_eq(hashlib.sha256(r.stdout).hexdigest(), sha, url)
    # UDP over IPv6: the DNS proxy at slirpd's address, and a UDP map to the same resolver.
    q = dns_query('alopex.test', 0x6666)
    r = ns.run('/usr/bin/python3', '-c', QUERY6, f'{theirs}%ppp1', q.hex())
    h.check_eq(r.returncode, 0, r.stderr)
    for line, port in zip(r.stdout.splitlines(), ('53', '5353')):
        src, sport, answer = line.split()
        h.check_eq((src.split('%')[0], sport), (theirs, port), 'the answer from the address and port asked')
        h.check(bytes.fromhex(answer)[:2] == q[:2] and bytes([192, 0, 2, 7]) in bytes.fromhex(answer), answer)
    r = ns.run('/usr/bin/python3', '-c', REFUSED6, f'{theirs}%ppp1')
    h.check_eq(r.stdout.split(), ['tcp', 'refused', 'udp', 'refused'], r.stderr)
    h.check('up 10.0.0.2 10.0.0.1' in log_of(peer), 'IPv4 beside it')
    slirpd.stop()
    counters = [l for l in log_of(slirpd).splitlines() if 'stopping; counters:' in l][-1]
    h.check('echo6-replies=3' in counters and 'icmpv6-errors=1' in counters and 'tcp-resets=1' in counters, counters)


@tap.test('an invalid or missing --config stops slirpd, the file and line named')
def _(sb):
    exe = sb.build_path('daemons/slirpd/alopex-slirpd')
    bad = sb.path('bad.toml')
    with open(bad, 'w') as f:
        f.write('[addresses]\nlocal = "127.0.0.1"\n')
    rc, _, err = sb.run([exe, '--pty', '--config', bad], timeout=10)
    h.check_eq(rc, 1, err)
    h.check(f'{bad}:2:' in err and 'cannot be a virtual address' in err, err)
    rc, _, err = sb.run([exe, '--pty', '--config', sb.path('missing.toml')], timeout=10)
    h.check_eq(rc, 1, err)
    h.check(f"{sb.path('missing.toml')}: cannot open: No such file" in err, err)


h.main(tap, setup)
