#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-linkd applying profiles (/etc/alopex/links/*.toml, here the sandbox's config
dir): at start, on hotplug, on Reload() and SIGHUP; netdevs it creates and deletes again
(and only those); a bad file refused with file:line while the last good set keeps
applying; kill -9 and restart without duplicates and with its ownership remembered.
Every outcome is checked with `ip -j`."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'daemon'))
import alopex_harness as h  # noqa: E402
from linkd_env import (ROOT, SERVICE, MANAGER, dbus_send, expect_error, expect_ok,  # noqa: E402
                       ifindex, ip, ip_j, lprop, veth, wait_lprop)
import linkd_env  # noqa: E402
from alopex_kernel import link_exists, require_link_kind  # noqa: E402

tap = h.Tap()

UPLINK = '''
[match]
name = "pu0"
[link]
mtu = 1400
zone = "wan"
[ipv4]
addresses = ["192.0.2.10/24"]
gateway = "192.0.2.1"
[ipv6]
addresses = ["2001:db8:a::10/64"]
[dns]
servers = ["192.0.2.53"]
domains = ["example.net"]
[[route]]
to = "198.51.100.0/24"
via = "192.0.2.254"
metric = 100
table = 100
'''


def links_dir(sb):
    d = os.path.join(sb.config_dir, 'links')
    os.makedirs(d, exist_ok=True)
    return d


def write_profile(sb, name, text):
    with open(os.path.join(links_dir(sb), name), 'w') as f:
        f.write(text)


def remove_profile(sb, name):
    os.unlink(os.path.join(links_dir(sb), name))


def addrs(sb, dev):
    out = ip_j(sb, 'addr', 'show', 'dev', dev)
    return sorted(f"{a['local']}/{a['prefixlen']}" for a in out[0].get('addr_info', [])
                  if a.get('scope') != 'link') if out else []


def wait_addrs(sb, dev, want, timeout=10):
    h.wait_until(lambda: addrs(sb, dev) == sorted(want), timeout, 0.02,
                 f'addresses of {dev} == {sorted(want)} (have {addrs(sb, dev)})')


def routes(sb, *sel):
    return ip_j(sb, 'route', 'show', *sel)


def reload(sb):
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')


def setup(sb):
    # Present before linkd starts: applied once the first dump is in.
    veth(sb, 'pu0', 'pu0p')
    ip(sb, 'link', 'set', 'pu0p', 'up')
    write_profile(sb, '50-uplink.toml', UPLINK)
    linkd_env.setup(sb)


@tap.test('a profile present at start: MTU, up, addresses, routes, gateway, zone and DNS')
def _(sb):
    idx = ifindex(sb, 'pu0')
    h.wait_until(lambda: ip_j(sb, 'link', 'show', 'dev', 'pu0')[0]['mtu'] == 1400, 10, 0.02, 'mtu 1400')
    h.wait_until(lambda: 'UP' in ip_j(sb, 'link', 'show', 'dev', 'pu0')[0]['flags'], 10, 0.02, 'pu0 up')
    wait_addrs(sb, 'pu0', ['192.0.2.10/24', '2001:db8:a::10/64'])
    h.wait_until(lambda: any(r['dst'] == '198.51.100.0/24' and r.get('gateway') == '192.0.2.254'
                             and r.get('metric') == 100 for r in routes(sb, 'table', '100')),
                 10, 0.02, 'route in table 100')
    h.wait_until(lambda: any(r['dst'] == 'default' and r.get('gateway') == '192.0.2.1'
                             and r.get('protocol') == 'static' for r in routes(sb)),
                 10, 0.02, 'default route via 192.0.2.1, protocol static')
    wait_lprop(sb, idx, 'Zone', 'wan')
    wait_lprop(sb, idx, 'DNSServers', ['192.0.2.53'])
    wait_lprop(sb, idx, 'DNSDomains', ['example.net'])
    origins = {(a[1], a[7]) for a in lprop(sb, idx, 'Addresses')}
    h.check(('192.0.2.10', 'static') in origins, f'origin of 192.0.2.10: {origins}')


@tap.test('hotplug: a link created after start gets its profile')
def _(sb):
    write_profile(sb, '60-hotplug.toml', '[match]\nname = "hp*"\n[ipv4]\naddresses = ["10.9.0.1/24"]\n'
                  '[link]\nmtu = 1300\n')
    reload(sb)
    veth(sb, 'hp0', 'hp0p')
    wait_addrs(sb, 'hp0', ['10.9.0.1/24'])
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'hp0')[0]['mtu'], 1300, 'mtu of hp0')


@tap.test('netdev profiles: a bridge with a port is created, and deleted with its profile; '
          'a foreign bridge is left alone')
def _(sb):
    ip(sb, 'link', 'add', 'fbr0', 'type', 'bridge')
    veth(sb, 'bp0', 'bp0p')
    write_profile(sb, '10-br.toml', '[netdev]\nname = "nbr0"\nkind = "bridge"\nstp = true\n'
                  '[ipv4]\naddresses = ["10.7.0.1/24"]\n')
    write_profile(sb, '61-port.toml', '[match]\nname = "bp0"\n[link]\ncontroller = "nbr0"\n')
    reload(sb)
    h.wait_until(lambda: link_exists(sb, 'nbr0'), 10, 0.02, 'nbr0 created')
    info = ip_j(sb, '-d', 'link', 'show', 'dev', 'nbr0')[0]
    h.check_eq(info['linkinfo']['info_kind'], 'bridge', 'kind of nbr0')
    h.check_eq(info['linkinfo']['info_data']['stp_state'], 1, 'stp of nbr0')
    h.wait_until(lambda: ip_j(sb, 'link', 'show', 'dev', 'bp0')[0].get('master') == 'nbr0', 10, 0.02,
                 'bp0 is a port of nbr0')
    wait_addrs(sb, 'nbr0', ['10.7.0.1/24'])
    remove_profile(sb, '10-br.toml')
    remove_profile(sb, '61-port.toml')
    reload(sb)
    h.wait_until(lambda: not link_exists(sb, 'nbr0'), 10, 0.02, 'nbr0 deleted')
    h.check(link_exists(sb, 'fbr0'), 'the foreign bridge fbr0 is still there')
    h.check(link_exists(sb, 'bp0'), 'the port bp0 (not created by linkd) is still there')


@tap.test('netdev profiles: a VLAN on a veth and a bond with two ports, deleted with their profiles',
          vm=True)
def _(sb):
    veth(sb, 'vp0', 'vp0p')
    veth(sb, 'bo1', 'bo1p')
    veth(sb, 'bo2', 'bo2p')
    require_link_kind(sb, 'vlan', 'id', '3', parent='vp0')
    require_link_kind(sb, 'bond')
    write_profile(sb, '11-vlan.toml', '[netdev]\nname = "vp0.7"\nkind = "vlan"\nvlan_id = 7\n'
                  'parent = "vp0"\n[ipv4]\naddresses = ["10.17.0.1/24"]\n')
    write_profile(sb, '12-bond.toml', '[netdev]\nname = "nbond0"\nkind = "bond"\n'
                  'mode = "active-backup"\n[ipv4]\naddresses = ["10.18.0.1/24"]\n')
    write_profile(sb, '62-bondports.toml', '[match]\nname = "bo[12]"\n[link]\ncontroller = "nbond0"\n')
    want = ['vp0.7', 'nbond0']
    reload(sb)
    h.wait_until(lambda: link_exists(sb, 'vp0.7'), 10, 0.02, 'vp0.7 created')
    v = ip_j(sb, '-d', 'link', 'show', 'dev', 'vp0.7')[0]
    h.check_eq((v['linkinfo']['info_kind'], v['linkinfo']['info_data']['id'], v['link']),
               ('vlan', 7, 'vp0'), 'vp0.7: kind, id, parent')
    wait_addrs(sb, 'vp0.7', ['10.17.0.1/24'])
    # It stays down while its parent is, and goes up when the parent does.
    h.check('UP' not in ip_j(sb, 'link', 'show', 'dev', 'vp0.7')[0]['flags'], 'vp0.7 up before vp0')
    ip(sb, 'link', 'set', 'vp0', 'up')
    h.wait_until(lambda: 'UP' in ip_j(sb, 'link', 'show', 'dev', 'vp0.7')[0]['flags'], 10, 0.02,
                 'vp0.7 up once vp0 is')
    h.wait_until(lambda: link_exists(sb, 'nbond0'), 10, 0.02, 'nbond0 created')
    b = ip_j(sb, '-d', 'link', 'show', 'dev', 'nbond0')[0]
    h.check_eq((b['linkinfo']['info_kind'], b['linkinfo']['info_data']['mode']),
               ('bond', 'active-backup'), 'nbond0: kind, mode')
    for port in ('bo1', 'bo2'):
        h.wait_until(lambda port=port: ip_j(sb, 'link', 'show', 'dev', port)[0].get('master') == 'nbond0',
                     10, 0.02, f'{port} is a port of nbond0')
    wait_addrs(sb, 'nbond0', ['10.18.0.1/24'])
    for name in ('11-vlan.toml', '12-bond.toml', '62-bondports.toml'):
        remove_profile(sb, name)
    reload(sb)
    for name in want:
        h.wait_until(lambda name=name: not link_exists(sb, name), 10, 0.02, f'{name} deleted')
    for name in ('vp0', 'bo1', 'bo2'):
        h.check(link_exists(sb, name), f'{name} (not created by linkd) is still there')


@tap.test('an address removed from a profile goes; a foreign address on the same link stays')
def _(sb):
    veth(sb, 'ad0', 'ad0p')
    ip(sb, 'addr', 'add', '10.6.0.99/24', 'dev', 'ad0')
    write_profile(sb, '62-addr.toml', '[match]\nname = "ad0"\n[ipv4]\naddresses = ["10.6.0.1/24", "10.6.1.1/24"]\n')
    reload(sb)
    wait_addrs(sb, 'ad0', ['10.6.0.1/24', '10.6.0.99/24', '10.6.1.1/24'])
    write_profile(sb, '62-addr.toml', '[match]\nname = "ad0"\n[ipv4]\naddresses = ["10.6.0.1/24"]\n')
    os.kill(sb.linkd.popen.pid, signal.SIGHUP)   # SIGHUP reloads like Reload()
    wait_addrs(sb, 'ad0', ['10.6.0.1/24', '10.6.0.99/24'])


@tap.test('a bad profile is refused with file:line and the last good set keeps applying')
def _(sb):
    write_profile(sb, '63-good.toml', '[match]\nname = "bd0"\n[ipv4]\naddresses = ["10.5.0.1/24"]\n')
    reload(sb)
    write_profile(sb, '64-bad.toml', '[match]\nname = "bd*"\n[link]\nmtu = "big"\n')
    ok, name, text = dbus_send(sb, 'Reload')
    h.check(not ok, 'Reload with a bad file succeeded')
    h.check('64-bad.toml:4' in text, f'error names file:line: {text}')
    # The last good set applies to a link that appears now.
    veth(sb, 'bd0', 'bd0p')
    wait_addrs(sb, 'bd0', ['10.5.0.1/24'])
    remove_profile(sb, '64-bad.toml')


@tap.test('[ipv6] slaac switches the kernel\'s autoconfiguration sysctls of the link')
def _(sb):
    veth(sb, 'sl0', 'sl0p')

    def sysctls():
        vals = []
        for k in ('accept_ra', 'autoconf'):
            with open(f'/proc/sys/net/ipv6/conf/sl0/{k}') as f:
                vals.append(int(f.read()))
        return vals
    write_profile(sb, '65-slaac.toml', '[match]\nname = "sl0"\n[ipv6]\nslaac = false\n')
    reload(sb)
    h.wait_until(lambda: sysctls() == [0, 0], 10, 0.02, f'accept_ra/autoconf 0/0 (have {sysctls()})')
    write_profile(sb, '65-slaac.toml', '[match]\nname = "sl0"\n[ipv6]\nslaac = true\n')
    reload(sb)
    h.wait_until(lambda: sysctls() == [1, 1], 10, 0.02, f'accept_ra/autoconf 1/1 (have {sysctls()})')
    remove_profile(sb, '65-slaac.toml')
    reload(sb)


@tap.test('kill -9 and restart: nothing duplicated, and what linkd created is still its own')
def _(sb):
    write_profile(sb, '11-kbr.toml', '[netdev]\nname = "kbr0"\nkind = "bridge"\n')
    reload(sb)
    h.wait_until(lambda: link_exists(sb, 'kbr0'), 10, 0.02, 'kbr0 created')
    before = addrs(sb, 'pu0')
    sb.linkd.popen.send_signal(signal.SIGKILL)
    sb.linkd.popen.wait()
    linkd_env.start_linkd(sb)
    h.check_eq(addrs(sb, 'pu0'), before, 'addresses of pu0 after the restart')
    h.check_eq(len([r for r in routes(sb) if r['dst'] == 'default']), 1, 'one default route')
    remove_profile(sb, '11-kbr.toml')
    reload(sb)
    h.wait_until(lambda: not link_exists(sb, 'kbr0'), 10, 0.02, 'kbr0 deleted by the restarted linkd')


h.main(tap, setup)
