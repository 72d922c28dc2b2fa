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
an unmapped TCP port is refused at once; slirpd's counters show VJ both ways, no error."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import alopex_harness as h  # noqa: E402
from slirpd_env import (SMALL, PeerNamespace, expect_download, expect_ssh, log_of, start_http,  # noqa: E402
                        start_slirpd, start_sshd)

tap = h.Tap()
HERE = os.path.dirname(os.path.abspath(__file__))
CTX = {}


def in_peer(sb, *argv):
    return CTX['ns'].run(*argv)


def ppp0(sb):
    r = in_peer(sb, 'ip', '-j', 'addr', 'show', 'dev', 'ppp0')
    if r.returncode != 0 or not r.stdout.strip():
        return []
    return [(a['local'], a.get('address')) for a in json.loads(r.stdout)[0]['addr_info'] if a['family'] == 'inet']


def setup(sb):
    if not os.path.exists('/usr/sbin/pppd') or not os.path.exists('/dev/ppp'):
        raise h.Skip('no pppd (package ppp) or no /dev/ppp (module ppp_async)')
    CTX['ssh_dir'] = start_sshd(sb)
    _, CTX['small_sha'] = start_http(sb)
    config = sb.path('slirp.toml')
    with open(config, 'w') as f:
        f.write('[ports]\n"10.0.0.1:22" = "127.0.0.1:2222"\n"10.0.0.1:80" = "127.0.0.1:8080"\n')
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
    h.wait_until(lambda: 'PPP up: peer 10.0.0.2' in log_of(CTX['slirpd']), 10, 0.05, 'slirpd logs the link up')


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


@tap.test("VJ with the kernel's slhc: slirpd decompressed and compressed TCP headers (its counters at stop)",
          vm=True)
def _(sb):
    CTX['slirpd'].stop()
    line = [l for l in log_of(CTX['slirpd']).splitlines() if 'stopping; counters:' in l]
    h.check(line, log_of(CTX['slirpd'])[-500:])
    c = {k: int(v) for k, v in re.findall(r'([a-z0-9-]+)=(\d+)', line[-1])}
    h.diag(' '.join(f'{k} {v}' for k, v in c.items() if k.startswith('vj-')))
    h.check(c.get('vj-compressed-in', 0) > 100 and c.get('vj-compressed-out', 0) > 100, line[-1])
    h.check(c.get('vj-errors', 0) == 0 and c.get('bad-packets', 0) == 0, line[-1])


h.main(tap, setup)
