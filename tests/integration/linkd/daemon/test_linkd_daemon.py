#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-linkd's state following and D-Bus surface: link objects against `ip -j`, every
Manager method as root (allowed, checked with `ip -j`), as an unprivileged user (refused,
nothing changed) and as a netdev-group user (link up/down allowed; zone changes by SetZone
or RenameLink refused without org.alopex.firewall.configure), bad arguments, links that
go away, and a polkitd that does not answer (SIGSTOPped): linkd keeps answering others;
run-time DNS (SetDNS, RevertDNS) and its checkpoint rollback.
The daemon runs as root in the test's namespace with polkitd."""
import os
import signal
import subprocess
import sys
import threading
import time

import alopex_harness as h
from alopex_dbus import check_introspection
from alopex_kernel import link_exists, require_link_kind
from linkd_env import (E, LINK, MANAGER, ROOT, SERVICE, dbus_send, expect_error, expect_ok,
                       ifindex, ip, ip_j, link_path, links, lprop, mprop, setup, veth,
                       wait_link_object, wait_lprop)

tap = h.Tap()


def kernel_view(sb):
    """What a refused call must not change: links, addresses, routes of every table."""
    strip = ('stats64', 'stats')
    ls = [{k: v for k, v in l.items() if k not in strip} for l in ip_j(sb, 'link')]
    return ls, ip_j(sb, 'addr'), ip_j(sb, 'route', 'show', 'table', 'all')


@tap.test('READY=1 once links and addresses are in, before the routes; Startup ends after; Version answers')
def _(sb):
    p = sb.linkd
    h.check(p.name_owned_at_ready, 'org.alopex.Link1 was not owned when READY=1 arrived')
    status = [m[2]['STATUS'] for m in p.notify.find('STATUS')]
    h.check(any(s.startswith('reading routes; following ') for s in status),
            f'STATUS at READY=1: {status}')
    # The staged start, in the order linkd logged it: the name (READY=1) before the route
    # dump was in, the end of Startup after it (start_linkd waited for Startup == false).
    with open(p.log_path, errors='replace') as f:
        log = f.read()
    serving, dumped, started = (log.find(x) for x in ('serving org.alopex.Link1', 'initial dump in',
                                                       'started: '))
    h.check(0 <= serving < dumped < started, f'log order: serving@{serving} dump@{dumped} started@{started}')
    h.check_eq(mprop(sb, 'Startup'), False, 'Startup')
    h.wait_until(lambda: any(m[2]['STATUS'].startswith('following ') for m in p.notify.find('STATUS')),
                 10, 0.02, 'STATUS after Startup')
    p.notify.wait_for('WATCHDOG', '1', timeout=10, proc=p)
    rc, data, err = sb.call(SERVICE, ROOT, MANAGER, 'Version')
    h.check_eq(rc, 0, f'Version ({err})')
    h.check(data and data[0], f'Version: {data}')
    lo = ifindex(sb, 'lo')
    h.check(link_path(lo) in links(sb), 'lo has an object')
    h.check_eq(mprop(sb, 'Connectivity'), 'none', 'only loopback')


@tap.test('live introspection of the manager and a link object equals ipc/org.alopex.Link1.xml')
def _(sb):
    for path, iface in ((ROOT, MANAGER), (ROOT, 'org.alopex.Link1.Checkpoints'),
                        (link_path(ifindex(sb, 'lo')), LINK)):
        check_introspection(sb, SERVICE, path, iface, 'ipc/org.alopex.Link1.xml')


@tap.test('a new veth pair gets objects whose properties match ip -j link / addr')
def _(sb):
    gen0 = mprop(sb, 'StateGeneration')
    a, b = veth(sb, 'tva0', 'tvb0')
    ip(sb, 'link', 'set', 'tva0', 'mtu', '1400', 'up')
    ip(sb, 'addr', 'add', '192.0.2.10/24', 'dev', 'tva0')
    wait_link_object(sb, a)
    wait_link_object(sb, b)
    wait_lprop(sb, a, 'MTU', 1400)
    wait_lprop(sb, a, 'Addresses', lambda v: any(x[1] == '192.0.2.10' for x in v))
    k = ip_j(sb, 'link', 'show', 'dev', 'tva0')[0]
    h.check_eq(lprop(sb, a, 'Index'), k['ifindex'], 'Index')
    h.check_eq(lprop(sb, a, 'Name'), k['ifname'], 'Name')
    h.check_eq(lprop(sb, a, 'Kind'), 'veth', 'Kind')
    h.check_eq(lprop(sb, a, 'MACAddress'), k['address'], 'MACAddress')
    h.check_eq(lprop(sb, a, 'MTU'), k['mtu'], 'MTU')
    h.check_eq(lprop(sb, a, 'AdministrativeState'), 'up' if 'UP' in k['flags'] else 'down', 'admin')
    h.check_eq(lprop(sb, a, 'OperationalState'), k['operstate'], 'OperationalState')
    h.check_eq(lprop(sb, a, 'Carrier'), 'LOWER_UP' in k['flags'], 'Carrier')
    h.check_eq(lprop(sb, b, 'AdministrativeState'), 'down', 'peer admin state')
    addrs = {(x[1], x[2]): x for x in lprop(sb, a, 'Addresses')}
    for ka in ip_j(sb, 'addr', 'show', 'dev', 'tva0')[0]['addr_info']:
        got = addrs.get((ka['local'], ka['prefixlen']))
        h.check(got is not None, f'{ka["local"]}/{ka["prefixlen"]} missing from {addrs}')
        h.check_eq(got[3], ka['scope'], f'scope of {ka["local"]}')
        h.check_eq(got[5], ka['valid_life_time'], f'valid lifetime of {ka["local"]}')
    h.check_eq(addrs[('192.0.2.10', 24)][7], 'foreign', 'origin of an address added by ip')
    stats = lprop(sb, a, 'Statistics')
    ks = ip_j(sb, '-s', 'link', 'show', 'dev', 'tva0')[0]['stats64']
    h.check_eq(sorted(stats), sorted(['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets',
                                      'rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped']),
               'Statistics keys')
    h.check(stats['tx_packets'] >= ks['tx']['packets'] and stats['rx_errors'] == ks['rx']['errors'],
            f'Statistics {stats} vs ip {ks}')
    h.check(mprop(sb, 'StateGeneration') > gen0, 'StateGeneration increased')


@tap.test('connectivity: local with a carrier, limited with a global address, never full')
def _(sb):
    veth(sb, 'tca0', 'tcb0')
    ip(sb, 'link', 'set', 'tca0', 'up')
    ip(sb, 'link', 'set', 'tcb0', 'up')
    h.wait_until(lambda: mprop(sb, 'Connectivity') in ('local', 'limited'), 10,
                 what='connectivity local')
    ip(sb, 'addr', 'add', '198.51.100.2/24', 'dev', 'tca0')
    ip(sb, 'route', 'add', 'default', 'via', '198.51.100.1')
    h.wait_until(lambda: mprop(sb, 'Connectivity') == 'limited', 10, what='limited')
    ip(sb, 'link', 'del', 'tca0')
    h.wait_until(lambda: mprop(sb, 'Connectivity') == 'none', 10, what='none again')


@tap.test('root: every method does what it says, checked with ip -j')
def _(sb):
    a, b = veth(sb, 'tra0', 'trb0')
    wait_link_object(sb, a)
    expect_ok(dbus_send(sb, 'SetLinkUp', f'int32:{a}'), 'SetLinkUp')
    h.check('UP' in ip_j(sb, 'link', 'show', 'dev', 'tra0')[0]['flags'], 'tra0 up')
    wait_lprop(sb, a, 'AdministrativeState', 'up')
    expect_ok(dbus_send(sb, 'SetLinkDown', f'int32:{a}'), 'SetLinkDown')
    h.check('UP' not in ip_j(sb, 'link', 'show', 'dev', 'tra0')[0]['flags'], 'tra0 down')
    expect_ok(dbus_send(sb, 'SetLinkUp', f'int32:{a}'), 'SetLinkUp again')
    expect_ok(dbus_send(sb, 'SetMtu', f'int32:{a}', 'uint32:1280'), 'SetMtu')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tra0')[0]['mtu'], 1280, 'mtu')
    wait_lprop(sb, a, 'MTU', 1280)

    expect_ok(dbus_send(sb, 'AddAddress', f'int32:{a}', 'string:203.0.113.5/24'), 'AddAddress')
    info = ip_j(sb, 'addr', 'show', 'dev', 'tra0')[0]['addr_info']
    h.check(any(x['local'] == '203.0.113.5' and x['prefixlen'] == 24 for x in info), f'{info}')
    wait_lprop(sb, a, 'Addresses',
               lambda v: any(x[1] == '203.0.113.5' and x[7] == 'static' for x in v))
    expect_ok(dbus_send(sb, 'AddAddress', f'int32:{a}', 'string:2001:db8::5/64'), 'AddAddress v6')
    h.check(any(x['local'] == '2001:db8::5' for x in
                ip_j(sb, 'addr', 'show', 'dev', 'tra0')[0]['addr_info']), 'v6 address')

    expect_ok(dbus_send(sb, 'AddRoute', 'string:198.18.0.0/16', 'string:203.0.113.1',
                        f'int32:{a}', 'uint32:50', 'uint32:0'), 'AddRoute main')
    r = ip_j(sb, 'route', 'show', '198.18.0.0/16')
    h.check(r and r[0].get('gateway') == '203.0.113.1' and r[0].get('metric') == 50, f'{r}')
    expect_ok(dbus_send(sb, 'AddRoute', 'string:198.19.0.0/16', 'string:',
                        f'int32:{a}', 'uint32:0', 'uint32:100'), 'AddRoute table 100')
    r = ip_j(sb, 'route', 'show', 'table', '100')
    h.check(any(x['dst'] == '198.19.0.0/16' and x.get('dev') == 'tra0' for x in r), f'{r}')
    expect_ok(dbus_send(sb, 'RemoveRoute', 'string:198.18.0.0/16', 'string:203.0.113.1',
                        f'int32:{a}', 'uint32:50', 'uint32:0'), 'RemoveRoute main')
    h.check_eq(ip_j(sb, 'route', 'show', '198.18.0.0/16'), [], 'route gone')
    expect_ok(dbus_send(sb, 'RemoveRoute', 'string:198.19.0.0/16', 'string:',
                        f'int32:{a}', 'uint32:0', 'uint32:100'), 'RemoveRoute table 100')
    h.check_eq(ip_j(sb, 'route', 'show', 'table', '100'), [], 'table 100 empty')

    expect_ok(dbus_send(sb, 'RemoveAddress', f'int32:{a}', 'string:203.0.113.5/24'),
              'RemoveAddress')
    h.check(not any(x['local'] == '203.0.113.5' for x in
                    ip_j(sb, 'addr', 'show', 'dev', 'tra0')[0]['addr_info']), 'address gone')

    expect_ok(dbus_send(sb, 'SetZone', f'int32:{a}', 'string:wan'), 'SetZone')
    wait_lprop(sb, a, 'Zone', 'wan')

    expect_ok(dbus_send(sb, 'RenameLink', f'int32:{a}', 'string:tren0'), 'RenameLink')
    k = ip_j(sb, 'link', 'show', 'dev', 'tren0')[0]
    h.check_eq(k['ifindex'], a, 'same link, new name')
    h.check('UP' in k['flags'], 'up again after the rename')
    wait_lprop(sb, a, 'Name', 'tren0')

    rc, out, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                             'tbr0', 'bridge', '1', 'stp', 'b', 'false')
    h.check_eq(rc, 0, f'CreateNetdev bridge: {err}')
    h.check_eq(ip_j(sb, '-d', 'link', 'show', 'dev', 'tbr0')[0]['linkinfo']['info_kind'],
               'bridge', 'bridge kind')
    br = ifindex(sb, 'tbr0')
    wait_link_object(sb, br)
    wait_lprop(sb, br, 'Kind', 'bridge')
    created = ['tbr0', 'tvx0']
    rc, out, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                             'tvx0', 'veth', '2', 'peer', 's', 'tvy0', 'mtu', 'u', '1300')
    h.check_eq(rc, 0, f'CreateNetdev veth: {err}')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tvx0')[0]['mtu'], 1300, 'veth mtu')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tvy0')[0]['ifname'], 'tvy0', 'veth peer')
    for name in created:
        expect_ok(dbus_send(sb, 'DeleteNetdev', f'string:{name}'), f'DeleteNetdev {name}')
        rc, _, _ = sb.run(['ip', 'link', 'show', 'dev', name])
        h.check(rc != 0, f'{name} still exists')
    wait_link_object(sb, br, present=False)

    # No profile asks for DHCP on this link: Renew/Release name the argument. (With an
    # empty profile directory Reload succeeds; tests/integration/linkd/profiles covers
    # profiles and the DHCP client.)
    for method in ('Renew', 'Release'):
        expect_error(dbus_send(sb, method, f'int32:{a}'), E + 'InvalidArgument', 'ifindex', 'DHCPv4')
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')


@tap.test('CreateNetdev of a VLAN on a veth, checked with ip -j; DeleteNetdev', vm=True)
def _(sb):
    veth(sb, 'tvl0', 'tvl1')
    require_link_kind(sb, 'vlan', 'id', '9', parent='tvl0')
    rc, out, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                             'tvl0.7', 'vlan', '2', 'parent', 's', 'tvl0', 'id', 'q', '7')
    h.check_eq(rc, 0, f'CreateNetdev vlan: {err}')
    v = ip_j(sb, '-d', 'link', 'show', 'dev', 'tvl0.7')[0]
    h.check_eq((v['linkinfo']['info_kind'], v['linkinfo']['info_data']['id'], v['link']),
               ('vlan', 7, 'tvl0'), 'vlan')
    vi = ifindex(sb, 'tvl0.7')
    wait_link_object(sb, vi)
    wait_lprop(sb, vi, 'Kind', 'vlan')
    expect_ok(dbus_send(sb, 'DeleteNetdev', 'string:tvl0.7'), 'DeleteNetdev tvl0.7')
    h.check(not link_exists(sb, 'tvl0.7'), 'tvl0.7 still exists')
    wait_link_object(sb, vi, present=False)


MUTATIONS = [
    ('SetLinkUp', lambda a: [f'int32:{a}']),
    ('SetLinkDown', lambda a: [f'int32:{a}']),
    ('SetMtu', lambda a: [f'int32:{a}', 'uint32:1300']),
    ('AddAddress', lambda a: [f'int32:{a}', 'string:192.0.2.99/24']),
    ('RemoveAddress', lambda a: [f'int32:{a}', 'string:192.0.2.98/24']),
    ('AddRoute', lambda a: ['string:198.18.0.0/16', 'string:', f'int32:{a}', 'uint32:0',
                            'uint32:0']),
    ('RemoveRoute', lambda a: ['string:198.20.0.0/16', 'string:', f'int32:{a}', 'uint32:0',
                               'uint32:0']),
    ('Renew', lambda a: [f'int32:{a}']),
    ('Release', lambda a: [f'int32:{a}']),
    ('Reload', lambda a: []),
    ('DeleteNetdev', lambda a: ['string:tua0']),
    ('RenameLink', lambda a: [f'int32:{a}', 'string:tunew0']),
    ('SetZone', lambda a: [f'int32:{a}', 'string:dmz']),
    ('SetDNS', lambda a: [f'int32:{a}', 'array:string:192.0.2.53', 'array:string:example.net']),
    ('RevertDNS', lambda a: [f'int32:{a}']),
]


@tap.test('an unprivileged user is refused every method (NotAuthorized), nothing changes')
def _(sb):
    a, b = veth(sb, 'tua0', 'tub0')
    ip(sb, 'link', 'set', 'tua0', 'up')
    ip(sb, 'addr', 'add', '192.0.2.98/24', 'dev', 'tua0')
    ip(sb, 'route', 'add', '198.20.0.0/16', 'dev', 'tua0')
    wait_lprop(sb, a, 'Addresses', lambda v: any(x[1] == '192.0.2.98' for x in v))
    before = kernel_view(sb)
    zone = lprop(sb, a, 'Zone')
    for method, args in MUTATIONS:
        expect_error(dbus_send(sb, method, *args(a), user='alopex-test'), E + 'NotAuthorized',
                     'org.alopex.link.configure')
    rc, out, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                             'tubr0', 'bridge', '0', as_user='alopex-test')
    h.check(rc != 0 and 'org.alopex.link.configure' in err, f'CreateNetdev: {rc} {err}')
    h.check_eq(kernel_view(sb), before, 'kernel state after the refused calls')
    h.check_eq(lprop(sb, a, 'Zone'), zone, 'zone unchanged')
    # Reading needs nothing.
    h.check_eq(lprop(sb, a, 'Name', as_user='alopex-test'), 'tua0', 'property read as a user')


@tap.test('a netdev-group user may set links up and down')
def _(sb):
    a, b = veth(sb, 'tna0', 'tnb0')
    wait_link_object(sb, a)
    expect_ok(dbus_send(sb, 'SetLinkUp', f'int32:{a}', user='alopex-netdev'), 'SetLinkUp')
    h.check('UP' in ip_j(sb, 'link', 'show', 'dev', 'tna0')[0]['flags'], 'up')
    expect_ok(dbus_send(sb, 'SetLinkDown', f'int32:{a}', user='alopex-netdev'), 'SetLinkDown')
    h.check('UP' not in ip_j(sb, 'link', 'show', 'dev', 'tna0')[0]['flags'], 'down')


FW_ACTION = 'org.alopex.firewall.configure'


@tap.test('a netdev-group user cannot move a link between firewall zones (SetZone, RenameLink)')
def _(sb):
    # The netdev rule grants org.alopex.link.configure only; a zone change, directly or by
    # a rename into another of fwd's name patterns, needs the firewall action too.
    a, b = veth(sb, 'tza0', 'tzb0')
    wait_link_object(sb, a)
    expect_ok(dbus_send(sb, 'SetZone', f'int32:{a}', 'string:lan'), 'SetZone as root')
    wait_lprop(sb, a, 'Zone', 'lan')
    expect_ok(dbus_send(sb, 'SetMtu', f'int32:{a}', 'uint32:1400', user='alopex-netdev'), 'SetMtu as netdev')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tza0')[0]['mtu'], 1400, 'mtu set by the netdev user')
    before = kernel_view(sb)
    expect_error(dbus_send(sb, 'SetZone', f'int32:{a}', 'string:trusted', user='alopex-netdev'),
                 E + 'NotAuthorized', FW_ACTION)
    expect_error(dbus_send(sb, 'SetZone', f'int32:{a}', 'string:', user='alopex-netdev'),
                 E + 'NotAuthorized', FW_ACTION)
    expect_error(dbus_send(sb, 'RenameLink', f'int32:{a}', 'string:tzwan0', user='alopex-netdev'),
                 E + 'NotAuthorized', FW_ACTION)
    h.check_eq(lprop(sb, a, 'Zone'), 'lan', 'zone unchanged (busctl)')
    h.check_eq(lprop(sb, a, 'Name'), 'tza0', 'name unchanged (busctl)')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tza0')[0]['ifindex'], a, 'tza0 kept its name (ip -j link)')
    rc, _, _ = sb.run(['ip', 'link', 'show', 'dev', 'tzwan0'])
    h.check(rc != 0, 'no link named tzwan0')
    h.check_eq(kernel_view(sb), before, 'kernel state after the refused calls')
    # Root holds both actions.
    expect_ok(dbus_send(sb, 'RenameLink', f'int32:{a}', 'string:tzwan0'), 'RenameLink as root')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tzwan0')[0]['ifindex'], a, 'renamed by root')


@tap.test('Reload: polkit is asked before any file is read')
def _(sb):
    # A linkd.toml that cannot be parsed and a profile that would create a bridge: a
    # refused Reload must neither parse the one (its error would be logged and returned)
    # nor apply the other.
    toml = os.path.join(sb.config_dir, 'linkd.toml')
    links_dir = os.path.join(sb.config_dir, 'links')
    profile = os.path.join(links_dir, '90-treload.toml')
    os.makedirs(links_dir, exist_ok=True)
    try:
        with open(toml, 'w') as f:
            f.write('[connectivity]\nprobe = "treload-marker:80"\n')
        with open(profile, 'w') as f:
            f.write('[netdev]\nname = "treload0"\nkind = "bridge"\n')
        log_before = len(sb.linkd.log(10 ** 6))
        expect_error(dbus_send(sb, 'Reload', user='alopex-test'), E + 'NotAuthorized', 'org.alopex.link.configure')
        h.check('linkd.toml' not in sb.linkd.log(10 ** 6)[log_before:], 'linkd.toml read for a refused Reload')
        rc, _, _ = sb.run(['ip', 'link', 'show', 'dev', 'treload0'])
        h.check(rc != 0, 'the profile was applied for a refused Reload')
        # The control: root's Reload reads both, so the marker would have shown.
        expect_error(dbus_send(sb, 'Reload'), E + 'InvalidArgument', 'linkd.toml')
        h.check('linkd.toml' in sb.linkd.log(10 ** 6)[log_before:], 'root Reload logged linkd.toml')
    finally:
        for f in (toml, profile):
            if os.path.exists(f):
                os.unlink(f)
    expect_ok(dbus_send(sb, 'Reload'), 'Reload with the files gone')
    sb.run(['ip', 'link', 'del', 'treload0'])


@tap.test('bad arguments: InvalidArgument naming the argument, NoSuchLink; nothing changes')
def _(sb):
    a, b = veth(sb, 'tba0', 'tbb0')
    wait_link_object(sb, a)
    before = kernel_view(sb)
    IA, NL = E + 'InvalidArgument', E + 'NoSuchLink'
    cases = [
        (('SetLinkUp', 'int32:0'), IA, 'ifindex'),
        (('SetLinkUp', 'int32:99999'), NL, 'ifindex'),
        (('SetMtu', f'int32:{a}', 'uint32:12'), IA, 'mtu'),
        (('SetMtu', 'int32:-4', 'uint32:1500'), IA, 'ifindex'),
        (('AddAddress', f'int32:{a}', 'string:192.0.2.300/24'), IA, 'address'),
        (('AddAddress', f'int32:{a}', 'string:192.0.2.3/33'), IA, 'address'),
        (('RemoveAddress', f'int32:{a}', 'string:192.0.2.77/24'), IA, 'address'),
        (('AddRoute', 'string:198.18.0.1/16', 'string:', f'int32:{a}', 'uint32:0',
          'uint32:0'), IA, 'to'),
        (('AddRoute', 'string:198.18.0.0/16', 'string:2001:db8::1', f'int32:{a}', 'uint32:0',
          'uint32:0'), IA, 'via'),
        (('AddRoute', 'string:198.18.0.0/16', 'string:', 'int32:0', 'uint32:0', 'uint32:0'),
         IA, 'ifindex'),
        (('AddRoute', 'string:198.18.0.0/16', 'string:', f'int32:{a}', 'uint32:0',
          'uint32:255'), IA, 'table'),
        (('RenameLink', f'int32:{a}', 'string:0123456789abcdef'), IA, 'name'),
        (('RenameLink', f'int32:{a}', 'string:tbb0'), IA, 'name'),
        (('DeleteNetdev', 'string:lo'), IA, 'name'),
        (('DeleteNetdev', 'string:nosuch0'), NL, 'name'),
        (('SetZone', f'int32:{a}', 'string:bad zone'), IA, 'zone'),
        (('Renew', 'int32:99999'), NL, 'ifindex'),
    ]
    for args, name, word in cases:
        expect_error(dbus_send(sb, *args), name, f'{word}:')
    for opts, word in ((['1', 'id', 'q', '7'], 'options'),
                       (['2', 'parent', 's', 'tba0', 'id', 'q', '5000'], 'options.id'),
                       (['2', 'parent', 's', 'tba0', 'bogus', 'b', 'true'], 'options.bogus')):
        rc, out, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                                 'tbv0', 'vlan', *opts)
        h.check(rc != 0 and f'{word}' in err, f'CreateNetdev {opts}: {rc} {err}')
    rc, out, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                             'tbv0', 'dummy', '0')
    h.check(rc != 0 and 'kind:' in err, f'CreateNetdev dummy: {err}')
    h.check_eq(kernel_view(sb), before, 'kernel state after the bad calls')


def set_dns(sb, index, servers, domains):
    return sb.busctl('call', SERVICE, ROOT, MANAGER, 'SetDNS', 'iasas', str(index), str(len(servers)), *servers,
                     str(len(domains)), *domains)


@tap.test('SetDNS replaces a link\'s DNS until RevertDNS; a checkpoint rollback puts it back; bad lists refused')
def _(sb):
    a, b = veth(sb, 'tda0', 'tdb0')
    wait_link_object(sb, a)
    h.check_eq((lprop(sb, a, 'DNSServers'), lprop(sb, a, 'DNSDomains')), ([], []), 'no DNS at first')
    rc, out, err = set_dns(sb, a, ['192.0.2.53', '2001:DB8::53', '192.0.2.53'], ['example.net.', 'lab.example'])
    h.check_eq(rc, 0, f'SetDNS: {err}')
    wait_lprop(sb, a, 'DNSServers', ['192.0.2.53', '2001:db8::53'])   # canonical, duplicates dropped
    h.check_eq(lprop(sb, a, 'DNSDomains'), ['example.net', 'lab.example'])
    IA = E + 'InvalidArgument'
    for servers, domains, word in ((['192.0.2.300'], [], 'servers:'), (['example.net'], [], 'servers:'),
                                   ([], ['bad domain'], 'domains:'), ([], ['a..b'], 'domains:'),
                                   ([], ['x' * 300], 'domains:'), ([f'192.0.2.{i}' for i in range(65)], [], 'servers:')):
        rc, out, err = set_dns(sb, a, servers, domains)
        h.check(rc != 0 and word in err, f'SetDNS {servers[:2]} {domains}: {err}')
    expect_error(dbus_send(sb, 'SetDNS', f'int32:{a}', 'array:string:192.0.2.300', 'array:string:example.net'), IA,
                 'servers:')
    rc, out, err = set_dns(sb, 99999, ['192.0.2.1'], [])
    h.check(rc != 0 and 'ifindex' in err, f'SetDNS on no link: {err}')
    h.check_eq(lprop(sb, a, 'DNSServers'), ['192.0.2.53', '2001:db8::53'], 'refused calls changed nothing')
    expect_error(dbus_send(sb, 'RevertDNS', 'int32:0'), IA, 'ifindex')

    ok, name, out = dbus_send(sb, 'CheckpointCreate', 'uint32:60', iface='org.alopex.Link1.Checkpoints')
    h.check(ok, f'CheckpointCreate: {name} {out}')
    cp = out.split('object path "')[1].split('"')[0]
    rc, out, err = set_dns(sb, a, [], [])   # no DNS on this link
    h.check_eq(rc, 0, f'SetDNS empty: {err}')
    wait_lprop(sb, a, 'DNSServers', [])
    rc, out, err = set_dns(sb, b, ['198.51.100.53'], [])
    h.check_eq(rc, 0, f'SetDNS on the peer: {err}')
    wait_lprop(sb, b, 'DNSServers', ['198.51.100.53'])
    expect_ok(dbus_send(sb, 'CheckpointRollback', f'objpath:{cp}', iface='org.alopex.Link1.Checkpoints'),
              'CheckpointRollback')
    wait_lprop(sb, a, 'DNSServers', ['192.0.2.53', '2001:db8::53'])
    h.check_eq(lprop(sb, a, 'DNSDomains'), ['example.net', 'lab.example'], 'domains back')
    wait_lprop(sb, b, 'DNSServers', [])

    expect_ok(dbus_send(sb, 'RevertDNS', f'int32:{a}'), 'RevertDNS')
    wait_lprop(sb, a, 'DNSServers', [])
    h.check_eq(lprop(sb, a, 'DNSDomains'), [], 'no profile, no lease: nothing')
    ip(sb, 'link', 'del', 'tda0')


@tap.test('a deleted link loses its object; its properties are gone')
def _(sb):
    a, b = veth(sb, 'tda0', 'tdb0')
    wait_link_object(sb, a)
    ip(sb, 'link', 'del', 'tda0')
    wait_link_object(sb, a, present=False)
    wait_link_object(sb, b, present=False)
    rc, out, err = sb.busctl('get-property', SERVICE, link_path(a), LINK, 'Name')
    h.check(rc != 0, f'get-property on a gone link: {out}')


class Monitor:
    """busctl monitor on the sandbox's bus, its lines collected by a thread."""

    def __init__(self, sb, match):
        self.lines, self.ready = [], threading.Event()
        self.p = subprocess.Popen(['busctl', f'--address={sb.bus_address}', 'monitor', '--json=short',
                                   '--match', match], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=sb.env())
        threading.Thread(target=self._read, args=(self.p.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._wait_ready, daemon=True).start()
        h.check(self.ready.wait(10), 'busctl monitor started')

    def _read(self, f, into):
        for line in f:
            into.append(line)

    def _wait_ready(self):
        for line in self.p.stderr:
            if 'Monitoring' in line:
                self.ready.set()

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


@tap.test('polkitd SIGSTOPped with a check pending: Version and GetAll still answer; the call completes after SIGCONT')
def _(sb):
    a, _ = veth(sb, 'tpa0', 'tpb0')
    wait_link_object(sb, a)
    mtu = ip_j(sb, 'link', 'show', 'dev', 'tpa0')[0]['mtu']
    mon = Monitor(sb, "interface='org.freedesktop.PolicyKit1.Authority',member='CheckAuthorization'")
    os.kill(sb.polkit.pid, signal.SIGSTOP)
    pending = {}
    try:
        t = threading.Thread(target=lambda: pending.update(res=dbus_send(sb, 'SetMtu', f'int32:{a}', 'uint32:1321')))
        t.start()
        # linkd has asked polkit (seen on the bus), and polkit cannot answer.
        h.wait_until(lambda: any('CheckAuthorization' in line for line in mon.lines), 10, 0.02,
                     'linkd asking polkit')
        for _ in range(3):
            t0 = time.monotonic()
            rc, out, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'Version')
            took = time.monotonic() - t0
            h.check(rc == 0 and out.startswith('s "') and took < 2, f'Version: {rc} {out} {err} in {took:.2f} s')
            t0 = time.monotonic()
            rc, out, err = sb.busctl('call', SERVICE, link_path(a), 'org.freedesktop.DBus.Properties', 'GetAll',
                                     's', LINK)
            took = time.monotonic() - t0
            h.check(rc == 0 and 'tpa0' in out and took < 2, f'GetAll: {rc} {err} in {took:.2f} s')
        h.check(t.is_alive(), 'SetMtu still waits for polkit')
        h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tpa0')[0]['mtu'], mtu, 'nothing changed before polkit answered')
    finally:
        os.kill(sb.polkit.pid, signal.SIGCONT)
        mon.stop()
    t.join(30)
    h.check(not t.is_alive(), 'SetMtu answered after SIGCONT')
    expect_ok(pending['res'], 'SetMtu once polkit answered')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'tpa0')[0]['mtu'], 1321, 'the MTU (ip -j)')

if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
