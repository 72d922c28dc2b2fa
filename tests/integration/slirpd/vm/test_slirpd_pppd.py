#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-slirpd with the real pppd (Debian's ppp package and the kernel's ppp_async), in
the test VM: pppd dials slirpd's pty with the options of a PiKVM-style peer (noauth local
nocrtscts nodetach noipdefault usepeerdns, Debian's /etc/ppp/options with its LCP echoes)
from a peer network namespace. It must get 10.0.0.2 and DNS 10.0.0.1 (its log and `ip -j`
on ppp0); VJ is taken both ways (pppd asks for it, and acknowledges slirpd's request), so
the kernel's slhc compresses toward slirpd and decompresses what slirpd compressed; the
kernel's ICMP echo to 10.0.0.1 comes back intact; over ppp0, an interactive ssh session
reaches the host's sshd and curl fetches a 4 MiB file intact through slirpd's port maps;
an unmapped TCP port is refused at once; slirpd's counters show VJ both ways, no error.
CCP (slirp.toml's deflate = true; pppd asks by default when the kernel has ppp_deflate):
Deflate 15 both ways after slirpd rejected the draft Deflate (and BSD-Compress when the
kernel offers it); a text
download (compressed by slirpd, decompressed by the kernel) and a text upload (the other
way) arrive intact, with no Reset-Request and no lost sync. Then a second pppd with
`novj noccp`: no VJ either way (slirpd's counters), ssh and curl still work. Last, slirpd
in client mode against pppd as the server (`10.0.0.1:10.0.0.2 ms-dns 10.0.0.1`): slirpd
gets 10.0.0.2 and DNS 10.0.0.1 and learns 10.0.0.1, and curl on the host's localhost
port of its [listen] reaches an HTTP server in pppd's namespace over the kernel's ppp0,
data intact, VJ both ways. Then slirpd asks the peer to authenticate ([auth]): pppd with
`user pikvm` and its chap-secrets passes CHAP, and with only PAP required passes PAP
(ppp0 comes up, ping answered); `user intruder`, whom slirpd's secrets do not know, fails
CHAP and pppd exits; slirpd logs and counts each. Last, IPv6 ([ppp] ipv6 = true) with
pppd's +ipv6: IPV6CP gives each end its link-local address (pppd's and slirpd's logs
agree on both; slirpd's is fe80::1), an ssh session and curl over IPv6 reach the host's
IPv4-only sshd and HTTP server through port maps on [fe80::1], the kernel's ICMPv6 echo
to slirpd's fe80:: address over ppp0 comes back
intact, and IPv4 still works beside it."""
import hashlib
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import alopex_harness as h  # noqa: E402
from slirpd_env import (SMALL, PeerNamespace, expect_download, expect_ssh, log_of, serve, start_http,  # noqa: E402
                        start_slirpd, start_sshd)

tap = h.Tap()
HERE = os.path.dirname(os.path.abspath(__file__))
CTX = {}


TEXT = 1 << 20


def in_peer(sb, *argv):
    return CTX['ns'].run(*argv)


def text(size):
    out, i = bytearray(), 0
    while len(out) < size:
        out += f'<tr><td>{i}</td><td>tap{i % 300}i0</td><td>vmbr0</td><td>tag=10</td></tr>\n'.encode()
        i += 1
    return bytes(out[:size])


def sink(sb):
    """A TCP sink on 127.0.0.1:9000: what each connection sent, its SHA-256, in CTX['sunk']."""
    CTX['sunk'] = []

    def handle(c):
        got = hashlib.sha256()
        while True:
            b = c.recv(65536)
            if not b:
                break
            got.update(b)
        CTX['sunk'].append(got.hexdigest())
        c.close()
    serve(sb, socket.create_server(('127.0.0.1', 9000)), handle)


def counters(slirpd):
    slirpd.stop()
    line = [l for l in log_of(slirpd).splitlines() if 'stopping; counters:' in l]
    h.check(line, log_of(slirpd)[-500:])
    return {k: int(v) for k, v in re.findall(r'([a-z0-9-]+)=(\d+)', line[-1])}, line[-1]


def ppp0(sb):
    return ppp0_of(CTX['ns'])


def setup(sb):
    if not os.path.exists('/usr/sbin/pppd') or not os.path.exists('/dev/ppp'):
        raise h.Skip('no pppd (package ppp) or no /dev/ppp (module ppp_async)')
    CTX['ssh_dir'] = start_sshd(sb)
    _, CTX['small_sha'] = start_http(sb)
    CTX['text'] = text(TEXT)
    with open(sb.path('www', 'text'), 'wb') as f:
        f.write(CTX['text'])
    with open(sb.path('upload'), 'wb') as f:
        f.write(CTX['text'][:TEXT // 4])
    sink(sb)
    config = sb.path('slirp.toml')
    with open(config, 'w') as f:
        f.write('[ports]\n"10.0.0.1:22" = "127.0.0.1:2222"\n"10.0.0.1:80" = "127.0.0.1:8080"\n'
                '"10.0.0.1:9" = "127.0.0.1:9000"\n[ppp]\ndeflate = true\n')
    CTX['slirpd'], pty = start_slirpd(sb, '--config', config, timeout=30)
    CTX['ns'] = PeerNamespace(sb, 'pppd-peer')
    CTX['pppd'] = CTX['ns'].spawn('pppd', '/usr/sbin/pppd', pty, '115200', 'noauth', 'local', 'nocrtscts',
                                  'nodetach', 'noipdefault', 'usepeerdns', 'nolock', 'logfd', '2', 'debug')

@tap.test('pppd gets 10.0.0.2 and DNS 10.0.0.1 from slirpd; VJ taken both ways', vm=True)
def _(sb):
    h.wait_until(lambda: ppp0(sb) == [('10.0.0.2', '10.0.0.1')], 60, 0.1,
                 f'ppp0 with 10.0.0.2 peer 10.0.0.1 (pppd: {log_of(CTX["pppd"])[-1500:]})')
    # pppd logs the addresses once its ip-pre-up script has run, after ppp0 has them.
    h.wait_until(lambda: 'local  IP address' in log_of(CTX['pppd']), 30, 0.1, 'pppd logs its addresses')
    log = log_of(CTX['pppd'])
    h.diag(' | '.join(l for l in log.splitlines() if l.startswith(('sent [', 'rcvd [')))[:3000])
    h.check('local  IP address 10.0.0.2' in log, log[-2000:])
    h.check('remote IP address 10.0.0.1' in log, log[-2000:])
    h.check('primary   DNS address 10.0.0.1' in log, log[-2000:])
    # VJ (RFC 1144) both ways: slirpd acknowledges pppd's request and pppd slirpd's.
    acks = [l for l in log.splitlines() if '[IPCP ConfAck' in l]
    h.check(any(l.startswith('rcvd [IPCP ConfAck') and 'compress VJ' in l for l in acks), ' | '.join(acks))
    h.check(any(l.startswith('sent [IPCP ConfAck') and 'compress VJ' in l for l in acks), ' | '.join(acks))
    h.wait_until(lambda: 'PPP up: address 10.0.0.1, peer 10.0.0.2' in log_of(CTX['slirpd']), 10, 0.05, 'slirpd logs the link up')


@tap.test("the kernel's ICMP echo over ppp0 to 10.0.0.1 is answered, data intact", vm=True)
def _(sb):
    r = in_peer(sb, '/usr/bin/python3', os.path.join(HERE, '..', 'icmp_ping.py'), '10.0.0.1', '5')
    h.diag(r.stdout.strip().replace('\n', ' | '))
    h.check_eq(r.returncode, 0, f'{r.stdout} {r.stderr}')


@tap.test('over ppp0: an interactive ssh session to the host, and curl of a 4 MiB file intact', vm=True)
def _(sb):
    expect_ssh(sb, CTX['ns'], CTX['ssh_dir'])
    took = expect_download(sb, CTX['ns'], 'small', CTX['small_sha'])
    h.diag(f'{SMALL / took / 1e6:.1f} MB/s over ppp0')


@tap.test('an unmapped TCP port over ppp0 is refused at once', vm=True)
def _(sb):
    code = ("import socket\ntry:\n    socket.create_connection(('10.0.0.1', 23), timeout=5)\n    print('connected')\n"
            "except ConnectionRefusedError:\n    print('refused')\n")
    r = in_peer(sb, '/usr/bin/python3', '-c', code)
    h.check_eq(r.stdout.strip(), 'refused', r.stderr)


@tap.test("CCP with the kernel's ppp_deflate: Deflate 15 both ways, a text file down and up intact", vm=True)
def _(sb):
    log = log_of(CTX['pppd'])
    ccp = [l for l in log.splitlines() if '[CCP ' in l]
    h.diag(' | '.join(ccp)[:2000])
    h.check(any(l.startswith('rcvd [CCP ConfAck') and '<deflate 15>' in l for l in ccp), ' | '.join(ccp))
    h.check(any(l.startswith('sent [CCP ConfAck') and '<deflate 15>' in l for l in ccp), ' | '.join(ccp))
    # pppd offers what the kernel has: the draft Deflate always, BSD-Compress with bsd_comp.
    h.check(any(l.startswith('rcvd [CCP ConfRej') and 'deflate(old#)' in l for l in ccp), ' | '.join(ccp))
    r = in_peer(sb, 'curl', '-sS', '--max-time', '60', 'http://10.0.0.1/text')
    h.check_eq(r.returncode, 0, r.stderr)
    h.check(hashlib.sha256(r.stdout.encode()).hexdigest() == hashlib.sha256(CTX['text']).hexdigest(),
            'the text came down changed')
    code = ("import socket, sys\ns = socket.create_connection(('10.0.0.1', 9), timeout=30)\n"
            f"s.sendall(open('{sb.path('upload')}', 'rb').read())\ns.shutdown(socket.SHUT_WR)\ns.recv(1)\n")
    r = in_peer(sb, '/usr/bin/python3', '-c', code)
    h.check_eq(r.returncode, 0, r.stderr)
    want = hashlib.sha256(CTX['text'][:TEXT // 4]).hexdigest()
    h.wait_until(lambda: want in CTX['sunk'], 20, 0.1, f'the upload arrived whole ({CTX["sunk"]})')
    log = log_of(CTX['pppd'])
    h.check('Lost compression sync' not in log and 'ResetReq' not in log,
            [l for l in log.splitlines() if 'compression' in l or 'Reset' in l])


@tap.test("VJ with the kernel's slhc and Deflate with ppp_deflate: slirpd's counters at stop", vm=True)
def _(sb):
    c, line = counters(CTX['slirpd'])
    h.diag(' '.join(f'{k} {v}' for k, v in c.items() if k.startswith(('vj-', 'deflate'))))
    h.check(c.get('vj-compressed-in', 0) > 100 and c.get('vj-compressed-out', 0) > 100, line)
    h.check(c.get('vj-errors', 0) == 0 and c.get('bad-packets', 0) == 0, line)
    h.check(c.get('deflate-out', 0) > 100 and c.get('deflate-in', 0) > 20, line)
    # The 4 MiB random file went plain; the 1 MiB of text saved most of its size down, the
    # upload (text only, compressed by the kernel) most of its size up.
    h.check(c['deflate-octets-out'] - c['deflate-compressed-octets-out'] > TEXT // 2, line)
    h.check(c['deflate-compressed-octets-in'] * 3 < c['deflate-octets-in'], line)
    h.check(c.get('deflate-errors', 0) == 0 and c.get('deflate-resets-received', 0) == 0, line)
    CTX['pppd'].stop()


def pppd_link(sb, name, toml, *options, before_pppd=None):
    """slirpd with TOML on its pty and pppd there in a namespace of its own, with the
    options every test uses and OPTIONS; before_pppd(ns) runs before pppd starts.
    Returns (slirpd, ns, pppd)."""
    config = sb.path(f'slirp-{name}.toml')
    with open(config, 'w') as f:
        f.write(toml)
    slirpd, pty = start_slirpd(sb, '--config', config, timeout=30, name=f'slirpd-{name}')
    ns = PeerNamespace(sb, f'pppd-{name}')
    if before_pppd:
        before_pppd(ns)
    pppd = ns.spawn(f'pppd-{name}', '/usr/sbin/pppd', pty, '115200', 'noauth', 'local', 'nocrtscts', 'nodetach',
                    'nolock', *options, 'logfd', '2', 'debug')
    return slirpd, ns, pppd


@tap.test('pppd with novj noccp: neither asked nor used, ssh and curl still work', vm=True)
def _(sb):
    ports = '[ports]\n"10.0.0.1:22" = "127.0.0.1:2222"\n"10.0.0.1:80" = "127.0.0.1:8080"\n'
    slirpd, ns, pppd = pppd_link(sb, 'novj', ports, 'noipdefault', 'usepeerdns', 'novj', 'noccp')
    h.wait_until(lambda: 'local  IP address' in log_of(pppd), 60, 0.1, f'pppd novj up: {log_of(pppd)[-1500:]}')
    expect_ssh(sb, ns, CTX['ssh_dir'])
    expect_download(sb, ns, 'small', CTX['small_sha'])
    log = log_of(pppd)
    h.check(not any('[IPCP ConfAck' in l and 'compress VJ' in l for l in log.splitlines()),
            [l for l in log.splitlines() if 'IPCP' in l])
    c, line = counters(slirpd)
    h.check(c.get('vj-compressed-in', 0) == 0 and c.get('vj-compressed-out', 0) == 0 and c.get('ip-in', 0) > 100,
            line)
    pppd.stop()


@tap.test('slirpd as the client of pppd as the server: address and DNS from pppd, [listen] reaches its side',
          vm=True)
def _(sb):
    www = sb.path('www-server')
    os.makedirs(www)
    with open(os.path.join(www, 'text'), 'wb') as f:
        f.write(CTX['text'])

    def http_server(ns):
        ns.spawn('http-server', '/usr/bin/python3', '-m', 'http.server', '--bind', '0.0.0.0', '--directory', www,
                 '8081')
    slirpd, ns, pppd = pppd_link(sb, 'client', '[ppp]\nmode = "client"\n[listen]\n"18080" = "peer:8081"\n',
                                 '10.0.0.1:10.0.0.2', 'ms-dns', '10.0.0.1', 'noccp', before_pppd=http_server)
    h.wait_until(lambda: 'PPP up: got' in log_of(slirpd), 60, 0.1,
                 f'slirpd up as the client: {log_of(slirpd)[-800:]} / pppd: {log_of(pppd)[-1500:]}')
    h.check('PPP up: got 10.0.0.2, peer 10.0.0.1, DNS 10.0.0.1' in log_of(slirpd), log_of(slirpd)[-800:])
    h.wait_until(lambda: ppp0_of(ns) == [('10.0.0.1', '10.0.0.2')], 30, 0.1, f'pppd\'s ppp0: {log_of(pppd)[-800:]}')
    log = log_of(pppd)
    h.diag(' | '.join(l for l in log.splitlines() if l.startswith(('sent [IPCP', 'rcvd [IPCP')))[:2000])
    h.check(any(l.startswith('sent [IPCP ConfNak') and 'ms-dns1 10.0.0.1' in l for l in log.splitlines()),
            [l for l in log.splitlines() if 'IPCP' in l])
    ok = False
    for _ in range(100):   # http.server comes up in its namespace
        r = subprocess.run(['curl', '-sS', '--max-time', '60', 'http://127.0.0.1:18080/text'], capture_output=True,
                           timeout=90)
        if r.returncode == 0:
            ok = True
            break
        time.sleep(0.1)
    h.check(ok, f'curl through slirpd\'s [listen]: {r.stderr}')
    h.check(hashlib.sha256(r.stdout).hexdigest() == hashlib.sha256(CTX['text']).hexdigest(), 'the text changed')
    c, line = counters(slirpd)
    h.diag(' '.join(f'{k} {v}' for k, v in c.items() if k.startswith(('vj-', 'listen', 'tcp-opened'))))
    h.check(c.get('listen-accepted', 0) >= 1 and c.get('tcp-opened', 0) >= 1, line)
    h.check(c.get('vj-compressed-in', 0) > 50 and c.get('vj-compressed-out', 0) > 10, line)
    h.check(c.get('vj-errors', 0) == 0 and c.get('bad-packets', 0) == 0, line)
    pppd.stop()


def auth_link(sb, name, require, user):
    """slirpd with [auth] require = REQUIRE (its secrets: pikvm) and pppd as `user USER`
    (pppd's chap-secrets and pap-secrets: pikvm and intruder); returns (slirpd, ns, pppd)."""
    secrets = sb.path(f'{name}.secrets')
    with open(secrets, 'w') as f:
        f.write('# client server secret\npikvm alopex-slirpd "s3cret pass"\n')
    os.chmod(secrets, 0o600)
    if 'ppp_secrets' not in CTX:   # the guest's pppd finds its secrets here
        CTX['ppp_secrets'] = sb.path('ppp-secrets')
        with open(CTX['ppp_secrets'], 'w') as f:
            f.write('pikvm * "s3cret pass" *\nintruder * "s3cret pass" *\n')
        os.chmod(CTX['ppp_secrets'], 0o600)
        for which in ('chap-secrets', 'pap-secrets'):
            sb.bind(CTX['ppp_secrets'], f'/etc/ppp/{which}')
    toml = (f'[auth]\nrequire = [{", ".join(chr(34) + r + chr(34) for r in require)}]\n'
            f'secrets_file = "{secrets}"\n[ppp]\necho_interval = 0\n')
    return pppd_link(sb, name, toml, 'noipdefault', 'usepeerdns', 'noccp', 'user', user)


@tap.test('[auth]: pppd with user pikvm passes CHAP, and PAP when only PAP is required; ping over ppp0',
          vm=True)
def _(sb):
    for proto, require in (('CHAP', ['chap', 'pap']), ('PAP', ['pap'])):
        slirpd, ns, pppd = auth_link(sb, proto.lower(), require, 'pikvm')
        h.wait_until(lambda: ppp0_of(ns) == [('10.0.0.2', '10.0.0.1')], 60, 0.1,
                     f'{proto}: ppp0 up (pppd: {log_of(pppd)[-1500:]}; slirpd: {log_of(slirpd)[-800:]})')
        h.check(f'{proto} authentication succeeded' in log_of(pppd), log_of(pppd)[-1500:])
        h.check(f"the peer authenticated as 'pikvm' ({proto})" in log_of(slirpd), log_of(slirpd)[-800:])
        r = ns.run('/usr/bin/python3', os.path.join(HERE, '..', 'icmp_ping.py'), '10.0.0.1', '3')
        h.check_eq(r.returncode, 0, f'{r.stdout} {r.stderr}')
        c, line = counters(slirpd)
        h.diag(f'{proto}: ' + ' '.join(f'{k} {v}' for k, v in c.items() if k.startswith('auth')))
        h.check(c.get('auth-successes', 0) == 1 and c.get('auth-failures', 0) == 0, line)
        pppd.stop()


@tap.test('[auth]: pppd as user intruder (not in slirpd\'s secrets) fails CHAP and hangs up; counted', vm=True)
def _(sb):
    slirpd, ns, pppd = auth_link(sb, 'intruder', ['chap'], 'intruder')
    h.wait_until(lambda: not pppd.alive(), 60, 0.1, f'pppd gives up: {log_of(pppd)[-1500:]}')
    h.check('CHAP authentication failed' in log_of(pppd), log_of(pppd)[-1500:])
    h.check(ppp0_of(ns) == [], 'no address on ppp0')
    h.check("the peer failed to authenticate as 'intruder' (CHAP: unknown name)" in log_of(slirpd),
            log_of(slirpd)[-800:])
    c, line = counters(slirpd)
    h.check(c.get('auth-failures', 0) == 1 and c.get('auth-successes', 0) == 0 and c.get('ip-in', 0) == 0, line)


@tap.test('IPv6: IPV6CP with pppd +ipv6, the kernel pings slirpd\'s fe80::1 over ppp0; ssh and curl over IPv6',
          vm=True)
def _(sb):
    ports = '[ports]\n"[fe80::1]:22" = "127.0.0.1:2222"\n"[fe80::1]:80" = "127.0.0.1:8080"\n'
    slirpd, ns, pppd = pppd_link(sb, 'ipv6', '[ppp]\nipv6 = true\necho_interval = 0\n' + ports, 'noipdefault',
                                 'noccp', '+ipv6')
    h.wait_until(lambda: 'remote LL address' in log_of(pppd), 60, 0.1, f'pppd IPv6 up: {log_of(pppd)[-1500:]}')
    h.wait_until(lambda: 'IPv6 up: ' in log_of(slirpd), 10, 0.1, f'slirpd IPv6 up: {log_of(slirpd)[-800:]}')
    log = log_of(pppd)
    h.diag(' | '.join(l for l in log.splitlines() if 'IPV6CP' in l or 'LL address' in l)[:1500])
    # pppd writes the groups with their leading zeros: compared as addresses.
    ours = str(ipaddress.IPv6Address(re.search(r'remote LL address (\S+)', log).group(1)))
    theirs = str(ipaddress.IPv6Address(re.search(r'local  LL address (\S+)', log).group(1)))
    h.check(f'IPv6 up: {ours}, peer {theirs}' in log_of(slirpd), f'{ours} {theirs}: {log_of(slirpd)[-800:]}')
    h.check_eq(ours, 'fe80::1', "slirpd's default link-local address, as pppd took it")
    # The kernel may still be doing DAD on ppp0's address: a few tries.
    for _ in range(50):
        r = ns.run('/usr/bin/python3', os.path.join(HERE, '..', 'icmp_ping.py'), f'{ours}%ppp0', '3')
        if r.returncode == 0:
            break
        time.sleep(0.2)
    h.diag(r.stdout.strip().replace('\n', ' | '))
    h.check_eq(r.returncode, 0, f'{r.stdout} {r.stderr}')
    # The kernel's TCP over IPv6 through the port maps: an interactive ssh session and a
    # file, to IPv4-only host services.
    expect_ssh(sb, ns, CTX['ssh_dir'], host=f'{ours}%ppp0')
    expect_download(sb, ns, 'small', CTX['small_sha'], host=f'[{ours}%25ppp0]')
    h.wait_until(lambda: ppp0_of(ns) == [('10.0.0.2', '10.0.0.1')], 30, 0.1, 'IPv4 beside it')
    r = ns.run('/usr/bin/python3', os.path.join(HERE, '..', 'icmp_ping.py'), '10.0.0.1', '2')
    h.check_eq(r.returncode, 0, f'{r.stdout} {r.stderr}')
    c, line = counters(slirpd)
    h.diag(' '.join(f'{k} {v}' for k, v in c.items() if 'ipv6' in k or 'icmpv6' in k or 'echo6' in k))
    h.check(c.get('echo6-replies', 0) >= 3 and c.get('ipv6-in', 0) > 100 and c.get('tcp-accepted', 0) >= 2, line)
    pppd.stop()


def ppp0_of(ns):
    r = ns.run('ip', '-j', 'addr', 'show', 'dev', 'ppp0')
    if r.returncode != 0 or not r.stdout.strip():
        return []
    return [(a['local'], a.get('address')) for a in json.loads(r.stdout)[0]['addr_info'] if a['family'] == 'inet']


h.main(tap, setup)
