#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""DHCPNAK from a real dnsmasq: a lease file planted in linkd's state directory
($STATE_DIRECTORY/dhcp4-ld0.lease, the format linkd writes itself) names 10.42.0.200,
inside dnsmasq's subnet but outside its range 10.42.0.50..60. linkd starts in INIT-REBOOT
and asks for it; dnsmasq (--dhcp-authoritative) NAKs; linkd falls back to DISCOVER and ends
BOUND with an address from the range. The planted address never reaches the link (an
`ip monitor address` running from before linkd's start never shows it), and the lease file
then names the new address."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, HERE)
import alopex_harness as h  # noqa: E402
import linkd_env  # noqa: E402
from linkd_env import ifindex, lprop  # noqa: E402
import robust_env as r  # noqa: E402

tap = h.Tap()
CTX = {}
PLANTED = '10.42.0.200'


def lease_file(sb):
    return os.path.join(sb.state_dir, 'dhcp4-ld0.lease')


def setup(sb):
    CTX['dnsmasq'] = r.Dnsmasq(sb)
    CTX['dnsmasq'].start()
    CTX['watch'] = r.AddressWatch(sb)
    with open(lease_file(sb), 'w') as f:
        f.write('# alopex-linkd DHCPv4 lease\n'
                f'address={PLANTED}\nprefixlen=24\nrouters=10.42.0.1\ndns=\ndomain=\nmtu=\n'
                'routes=\nserver_id=10.42.0.1\nlease=120\nt1=60\nt2=105\n'
                f'acquired_realtime_usec={int(time.time() * 1e6)}\n')
    r.write_profile(sb, '50-dhcp.toml', r.DHCP_PROFILE)
    linkd_env.setup(sb)


@tap.test('INIT-REBOOT for an address outside the range: NAK, then DISCOVER, BOUND in range')
def _(sb):
    a = r.wait_bound(sb)['local']
    last = int(a.rsplit('.', 1)[1])
    h.check(a.startswith('10.42.0.') and 50 <= last <= 60, f'bound address {a} in the range')
    log = CTX['dnsmasq'].log()
    h.check(f'DHCPREQUEST(ld1) {PLANTED}' in log, 'dnsmasq saw the INIT-REBOOT request for '
            f'{PLANTED}:\n{log[-1500:]}')
    h.check('DHCPNAK(ld1)' in log, f'dnsmasq NAKed:\n{log[-1500:]}')
    nak, disc = log.index('DHCPNAK(ld1)'), log.rfind('DHCPDISCOVER(ld1)')
    h.check(disc > nak, 'DISCOVER after the NAK')
    idx = ifindex(sb, 'ld0')
    h.check_eq(lprop(sb, idx, 'DHCPAddress'), f'{a}/24', 'DHCPAddress')
    h.check(PLANTED not in CTX['watch'].text(),
            f'{PLANTED} appeared on a link:\n{CTX["watch"].text()[-1500:]}')
    h.check_eq([x['local'] for x in r.dhcp_addrs(sb)], [a], 'only the new address on ld0')
    h.wait_until(lambda: f'address={a}\n' in open(lease_file(sb)).read(), 10, 0.05,
                 'the lease file names the new address')
    r.check_alive(sb)


h.main(tap, setup)
