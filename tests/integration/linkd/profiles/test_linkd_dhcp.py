#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-linkd's DHCPv4 client end to end against a real dnsmasq in a peer namespace: a
profile with `dhcp = true` gets the lease's address (with the lease's lifetime), the
option 121 routes (protocol dhcp), the MTU of option 26, DNS servers and domain; the lease
is on the link's D-Bus object; Renew() goes to the server again; Release() gives the
address back (dnsmasq forgets it); kill -9 and restart keep the address (INIT-REBOOT,
no new DISCOVER). Checked with `ip -j` and dnsmasq's lease file and log."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'daemon'))
import alopex_harness as h  # noqa: E402
from alopex_peer import Dnsmasq  # noqa: E402
import linkd_env  # noqa: E402
from linkd_env import dbus_send, expect_ok, ifindex, ip_j, lprop, wait_lprop  # noqa: E402

tap = h.Tap()
CTX = {}


def dnsmasq_log():
    return CTX['peer'].log()


def leases():
    return set(CTX['peer'].leases())


def dhcp_addrs(sb):
    return [a for a in ip_j(sb, 'addr', 'show', 'dev', 'ld0')[0]['addr_info']
            if a['family'] == 'inet' and a['local'].startswith('10.42.0.')]


def wait_bound(sb):
    h.wait_until(lambda: len(dhcp_addrs(sb)) == 1, 30, 0.05, 'a DHCP address on ld0')
    idx = ifindex(sb, 'ld0')
    wait_lprop(sb, idx, 'DHCPState', 'bound', timeout=30)
    return dhcp_addrs(sb)[0]


def setup(sb):
    peer = Dnsmasq(sb, options=['--dhcp-option=option:dns-server,10.42.0.53',
                                '--dhcp-option=option:domain-name,test.alopex',
                                '--dhcp-option=option:mtu,1400'])
    CTX['peer'] = peer
    CTX['dnsmasq'] = peer.start()
    os.makedirs(os.path.join(sb.config_dir, 'links'), exist_ok=True)
    with open(os.path.join(sb.config_dir, 'links', '50-dhcp.toml'), 'w') as f:
        f.write('[match]\nname = "ld0"\n[ipv4]\ndhcp = true\n')
    linkd_env.setup(sb)


@tap.test('the lease is applied: address with its lifetime, classless routes, MTU, DNS, D-Bus')
def _(sb):
    a = wait_bound(sb)
    h.check_eq(a['prefixlen'], 24, 'prefix')
    h.check(0 < a['valid_life_time'] <= 120, f"valid lifetime {a['valid_life_time']}")
    h.check(a['local'] in leases(), f"dnsmasq leased {a['local']}: {leases()}")
    routes = ip_j(sb, 'route', 'show', 'dev', 'ld0')
    want = {('10.99.0.0/16', '10.42.0.254'), ('default', '10.42.0.1')}
    got = {(r['dst'], r.get('gateway')) for r in routes if r.get('protocol') == 'dhcp'}
    h.check_eq(got, want, f'dhcp routes (121 overrides 3): {routes}')
    h.check(all(r.get('metric') == 1024 for r in routes if r.get('protocol') == 'dhcp'), f'{routes}')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'ld0')[0]['mtu'], 1400, 'MTU from option 26')
    idx = ifindex(sb, 'ld0')
    h.check_eq(lprop(sb, idx, 'DHCPAddress'), f"{a['local']}/24", 'DHCPAddress')
    h.check_eq(lprop(sb, idx, 'DHCPServer'), '10.42.0.1', 'DHCPServer')
    h.check_eq(lprop(sb, idx, 'DHCPLeaseTime'), 120, 'DHCPLeaseTime')
    h.check_eq((lprop(sb, idx, 'DHCPT1'), lprop(sb, idx, 'DHCPT2')), (60, 105), 'T1/T2')
    h.check_eq(lprop(sb, idx, 'DNSServers'), ['10.42.0.53'], 'DNSServers')
    h.check_eq(lprop(sb, idx, 'DNSDomains'), ['test.alopex'], 'DNSDomains')
    origins = {(x[1], x[7]) for x in lprop(sb, idx, 'Addresses')}
    h.check((a['local'], 'dhcp') in origins, f'origin: {origins}')


@tap.test('Renew() asks the server again; Release() returns the address')
def _(sb):
    a = wait_bound(sb)['local']
    idx = ifindex(sb, 'ld0')
    acks = dnsmasq_log().count(f'DHCPACK(ld1) {a}')
    expect_ok(dbus_send(sb, 'Renew', f'int32:{idx}'), 'Renew')
    h.wait_until(lambda: dnsmasq_log().count(f'DHCPACK(ld1) {a}') > acks, 20, 0.05, 'another DHCPACK')
    expect_ok(dbus_send(sb, 'Release', f'int32:{idx}'), 'Release')
    h.wait_until(lambda: not dhcp_addrs(sb), 10, 0.05, 'the address removed')
    h.wait_until(lambda: a not in leases(), 10, 0.05, 'dnsmasq forgot the lease')
    h.check_eq(lprop(sb, idx, 'DHCPState'), 'released', 'DHCPState')
    # Renew() after Release() starts the client again.
    expect_ok(dbus_send(sb, 'Renew', f'int32:{idx}'), 'Renew after Release')
    wait_bound(sb)


@tap.test('kill -9 and restart: the same address through INIT-REBOOT, no new DISCOVER')
def _(sb):
    a = wait_bound(sb)['local']
    discovers = dnsmasq_log().count('DHCPDISCOVER(ld1)')
    sb.linkd.popen.send_signal(signal.SIGKILL)
    sb.linkd.popen.wait()
    linkd_env.start_linkd(sb)
    idx = ifindex(sb, 'ld0')
    wait_lprop(sb, idx, 'DHCPState', 'bound', timeout=30)
    h.check_eq(lprop(sb, idx, 'DHCPAddress'), f'{a}/24', 'same address')
    h.check_eq([x['local'] for x in dhcp_addrs(sb)], [a], 'one DHCP address, not two')
    h.check_eq(dnsmasq_log().count('DHCPDISCOVER(ld1)'), discovers, 'no DISCOVER after the restart')


h.main(tap, setup)
