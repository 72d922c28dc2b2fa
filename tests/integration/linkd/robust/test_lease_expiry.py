#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A DHCP lease running out after its server died: the test's own DHCP server
(alopex_peer.ShortLeaseServer: dnsmasq leases for two minutes at least) hands out a
24-second lease with T1 = 6 s and T2 = 12 s (options 58/59), so linkd goes through RENEWING
and REBINDING against a dead server well before expiry. The server is killed right after
BOUND. The address stays while linkd renews and rebinds (nothing is removed early), and at
expiry the address and the DHCP routes go by themselves (`ip -j addr`, `ip -j route`), the
link's DHCP lease properties empty, and linkd keeps running."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, HERE)
import alopex_harness as h  # noqa: E402
from alopex_peer import ShortLeaseServer  # noqa: E402
import linkd_env  # noqa: E402
from linkd_env import ifindex, lprop, wait_lprop  # noqa: E402
import robust_env as r  # noqa: E402

tap = h.Tap()
CTX = {}
LEASE, T1, T2 = 24, 6, 12


def setup(sb):
    CTX['server'] = ShortLeaseServer(sb, LEASE, T1, T2)
    CTX['server'].start()
    r.write_profile(sb, '50-dhcp.toml', r.DHCP_PROFILE)
    linkd_env.setup(sb)


@tap.test('bound with the short lease, T1 and T2; the server killed')
def _(sb):
    a = r.wait_bound(sb)
    CTX['bound_at'] = time.monotonic()
    CTX['addr'] = a['local']
    idx = CTX['idx'] = ifindex(sb, 'ld0')
    h.check_eq((lprop(sb, idx, 'DHCPLeaseTime'), lprop(sb, idx, 'DHCPT1'), lprop(sb, idx, 'DHCPT2')),
               (LEASE, T1, T2), 'lease time, T1, T2 as the server sent them')
    CTX['expiry_rt'] = lprop(sb, idx, 'DHCPExpiry') / 1e6   # realtime seconds
    h.check(abs(CTX['expiry_rt'] - (time.time() + LEASE)) < 5,
            f'DHCPExpiry {CTX["expiry_rt"]} is about now + {LEASE}')
    h.check(len(r.dhcp_routes(sb)) > 0, 'DHCP routes installed')
    CTX['routes'] = r.dhcp_routes(sb)
    CTX['server'].stop()


@tap.test('renewing at T1 and rebinding at T2 against the dead server; the address stays')
def _(sb):
    idx = CTX['idx']
    wait_lprop(sb, idx, 'DHCPState', 'renewing', timeout=T1 + 10)
    h.check_eq([x['local'] for x in r.dhcp_addrs(sb)], [CTX['addr']], 'address while renewing')
    wait_lprop(sb, idx, 'DHCPState', 'rebinding', timeout=T2 - T1 + 10)
    h.check_eq([x['local'] for x in r.dhcp_addrs(sb)], [CTX['addr']], 'address while rebinding')
    h.check_eq(r.dhcp_routes(sb), CTX['routes'], 'DHCP routes while rebinding')
    h.check_eq(lprop(sb, idx, 'DHCPAddress'), f"{CTX['addr']}/24", 'DHCPAddress while rebinding')
    log = r.linkd_log(sb)
    h.check('bound -> renewing' in log and 'renewing -> rebinding' in log,
            f'linkd logged the transitions:\n{sb.linkd.log(30)}')


@tap.test('at expiry the address and the DHCP routes go, the lease properties empty')
def _(sb):
    idx = CTX['idx']
    left = CTX['bound_at'] + LEASE - time.monotonic()
    h.wait_until(lambda: not r.dhcp_addrs(sb), left + 15, 0.1, f'{CTX["addr"]} gone from ld0')
    gone_rt = time.time()
    h.diag(f'the address went {gone_rt - (CTX["expiry_rt"] - LEASE):.1f}s after BOUND; linkd: ' +
           ' | '.join(l.split(': ', 1)[-1] for l in r.linkd_log(sb).splitlines()
                      if 'lost' in l or 'lease on ld0 gone' in l or '-> init' in l))
    h.check(gone_rt >= CTX['expiry_rt'] - 3,
            f'the address went {CTX["expiry_rt"] - gone_rt:.1f}s before the lease expired')
    h.wait_until(lambda: not r.dhcp_routes(sb), 10, 0.1, 'DHCP routes gone')
    wait_lprop(sb, idx, 'DHCPAddress', '', timeout=10)
    h.check_eq((lprop(sb, idx, 'DHCPServer'), lprop(sb, idx, 'DHCPLeaseTime'),
                lprop(sb, idx, 'DHCPExpiry')), ('', 0, 0), 'DHCPServer, DHCPLeaseTime, DHCPExpiry')
    state = lprop(sb, idx, 'DHCPState')
    h.check(state not in ('bound', 'renewing', 'rebinding'), f'DHCPState {state}')
    h.check(not any(x[1] == CTX['addr'] for x in lprop(sb, idx, 'Addresses')),
            'the address is gone from the published Addresses')
    h.check(not os.path.exists(os.path.join(sb.state_dir, 'dhcp4-ld0.lease')) or
            f"address={CTX['addr']}" not in open(os.path.join(sb.state_dir, 'dhcp4-ld0.lease')).read(),
            'the expired lease is no longer persisted')
    r.check_alive(sb)


h.main(tap, setup)
