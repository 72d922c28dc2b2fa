#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kill -9 of alopex-linkd in the middle of applying a profile (100 addresses and a route
on one link) while a DHCP lease from a real dnsmasq is held on another, then a restart:
the state is rebuilt (every profile address present, each exactly once in `ip -j addr`,
published with origin static; the DHCP address with origin dhcp), the lease is kept
through INIT-REBOOT (same address, no new DISCOVER, still one address on ld0), and linkd's
published links and addresses equal the kernel's. A second kill -9 right at start-up
(right after its first dump) changes none of that.

What tests/integration/linkd/profiles already covers is not repeated here: kill -9 after
a profile has fully applied (test_linkd_profiles.py) and after a lease is bound
(test_linkd_dhcp.py), each on its own."""
import os
import select
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, HERE)
import alopex_harness as h  # noqa: E402
import linkd_env  # noqa: E402
from linkd_env import ifindex, ip_j, lprop, veth, wait_lprop  # noqa: E402
import robust_env as r  # noqa: E402

tap = h.Tap()
CTX = {}
N = 1000
BULK = ['10.88.{}.{}/16'.format(i // 200, 1 + i % 200) for i in range(N)]
BULK_PROFILE = ('[match]\nname = "kb0"\n[link]\nup = true\n[ipv4]\naddresses = [{}]\n'
                '[[route]]\nto = "198.51.100.0/24"\nvia = "10.88.0.254"\n').format(
                    ', '.join(f'"{a}"' for a in BULK))


def kb0_addrs(sb):
    out = ip_j(sb, 'addr', 'show', 'dev', 'kb0')
    return [f"{a['local']}/{a['prefixlen']}" for a in out[0].get('addr_info', [])
            if a['family'] == 'inet'] if out else []


def lines_of(proc):
    """lines(timeout) -> the text proc printed within timeout seconds (maybe none), as a
    list of chunks (read unbuffered from its stdout pipe, so select() tells the truth)."""
    fd = proc.stdout.fileno()

    def lines(timeout):
        out = []
        while select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out.append(chunk.decode(errors='replace'))
            timeout = 0
        return out
    return lines


def kill9(sb):
    sb.linkd.popen.send_signal(signal.SIGKILL)
    sb.linkd.popen.wait()


def check_rebuilt(sb):
    """Everything the profiles and the lease ask for is there once, and published."""
    h.wait_until(lambda: sorted(kb0_addrs(sb)) == sorted(BULK), 30, 0.05,
                 f'the {N} profile addresses on kb0')
    r.wait_bound(sb)
    locals_ = [a['local'] for l in ip_j(sb, 'addr', 'show') for a in l.get('addr_info', [])]
    dups = sorted({a for a in locals_ if locals_.count(a) > 1})
    h.check_eq(dups, [], 'addresses present more than once in ip -j addr')
    h.check_eq([a['local'] for a in r.dhcp_addrs(sb)], [CTX['lease']], 'the DHCP address, once')
    h.check(any(x['dst'] == '198.51.100.0/24' and x.get('gateway') == '10.88.0.254'
                for x in ip_j(sb, 'route', 'show')), 'the profile route')
    r.wait_consistent(sb)
    wait_lprop(sb, ifindex(sb, 'ld0'), 'DHCPAddress', f"{CTX['lease']}/24")


def setup(sb):
    CTX['dnsmasq'] = r.Dnsmasq(sb)
    CTX['dnsmasq'].start()
    veth(sb, 'kb0', 'kb0p')
    r.write_profile(sb, '50-dhcp.toml', r.DHCP_PROFILE)
    linkd_env.setup(sb)
    CTX['lease'] = r.wait_bound(sb)['local']


@tap.test(f'kill -9 while a profile applies {N} addresses; restart rebuilds, lease kept')
def _(sb):
    discovers = CTX['dnsmasq'].log().count('DHCPDISCOVER(ld1)')
    mon = subprocess.Popen(['ip', '-o', 'monitor', 'address'], stdout=subprocess.PIPE, bufsize=0)
    try:
        lines = lines_of(mon)
        # `ip monitor` says nothing when it listens: a probe address on kb0p tells. It is
        # made again until seen: one made before the monitor subscribed is never reported.
        def seen():
            linkd_env.ip(sb, 'addr', 'replace', '198.18.0.1/32', 'dev', 'kb0p')
            if any('198.18.0.1' in l for l in lines(0.1)):
                return True
            linkd_env.ip(sb, 'addr', 'del', '198.18.0.1/32', 'dev', 'kb0p')
            return False
        h.wait_until(seen, 10, 0, 'ip monitor ready')
        r.write_profile(sb, '60-bulk.toml', BULK_PROFILE)
        os.kill(sb.linkd.pid, signal.SIGHUP)
        # The first of the new addresses in the kernel's stream: kill right then.
        h.wait_until(lambda: any(' 10.88.' in l for l in lines(0.1)), 20, 0,
                     'the first profile address')
        kill9(sb)
    finally:
        mon.kill()
        mon.wait()
    try:
        with open(os.path.join(sb.runtime_dir, 'owned.json')) as f:
            recorded = f.read().count('10.88.')
    except FileNotFoundError:
        recorded = 0
    # The kernel takes a batch of requests within one sendmsg(), so "mid-apply" is in
    # practice: after the kernel applied them, around linkd recording them as its own.
    h.diag(f'when linkd died: {len(kb0_addrs(sb))} of {N} addresses on kb0, '
           f'{recorded} recorded in owned.json')
    h.check(not sb.linkd.alive(), 'linkd was killed')
    linkd_env.start_linkd(sb)
    check_rebuilt(sb)
    h.check_eq(CTX['dnsmasq'].log().count('DHCPDISCOVER(ld1)'), discovers,
               'no DISCOVER after the restart (INIT-REBOOT kept the lease)')


@tap.test('after the restart linkd publishes its own addresses as its own: static and dhcp')
def _(sb):
    kb, ld = ifindex(sb, 'kb0'), ifindex(sb, 'ld0')
    want = {a.split('/')[0]: 'static' for a in BULK}
    want[CTX['lease']] = 'dhcp'

    def wrong():
        got = {x[1]: x[7] for i in (kb, ld) for x in lprop(sb, i, 'Addresses') if x[0] == 2}
        return sorted((a, want.get(a), got.get(a)) for a in set(want) | set(got)
                      if want.get(a) != got.get(a))
    try:
        h.wait_until(lambda: not wrong(), 10, 0.1, 'published origins')
    except TimeoutError:
        bad = wrong()
        h.check(False, f'{len(bad)} published origins differ (address, want, got): {bad[:6]}')


@tap.test('kill -9 right after the first dump at start-up: the next start rebuilds the same state')
def _(sb):
    kill9(sb)
    discovers = CTX['dnsmasq'].log().count('DHCPDISCOVER(ld1)')
    # Started without waiting for READY; killed once its first dump is in (the profiles
    # and the DHCP client start right then).
    sb.linkd = sb.spawn('alopex-linkd-early', [sb.build_path('daemons/linkd/alopex-linkd')],
                        env=sb.env({'ALOPEX_LOG_LEVEL': 'debug'}))
    h.wait_until(lambda: 'initial dump in' in r.linkd_log(sb), 20, 0.001, 'the first dump')
    kill9(sb)
    linkd_env.start_linkd(sb)
    check_rebuilt(sb)
    h.check_eq(CTX['dnsmasq'].log().count('DHCPDISCOVER(ld1)'), discovers, 'no DISCOVER')



@tap.test('ownership survived the kills: the profile removed, linkd removes its addresses only')
def _(sb):
    os.unlink(os.path.join(sb.config_dir, 'links', '60-bulk.toml'))
    os.kill(sb.linkd.pid, signal.SIGHUP)
    h.wait_until(lambda: not kb0_addrs(sb), 30, 0.05, f'the {N} profile addresses removed from kb0')
    h.check(any(a['local'] == '198.18.0.1' for a in ip_j(sb, 'addr', 'show', 'dev', 'kb0p')[0]['addr_info']),
            'the foreign address on kb0p stays')
    h.check_eq([a['local'] for a in r.dhcp_addrs(sb)], [CTX['lease']], 'the DHCP address stays')
    r.wait_consistent(sb)
    r.check_alive(sb)

h.main(tap, setup)
