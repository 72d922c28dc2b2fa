# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared pieces of the linkd robustness tests: linkd's whole published state in one
GetManagedObjects call, the kernel's (`ip -j link` / `ip -j addr`), their comparison, peer
network namespaces (`unshare --net sleep` holders) and a real dnsmasq in one of them.

Built on tests/integration/linkd/daemon/linkd_env.py (imported the way the profiles tests
do: that directory is put on sys.path by the test script before this module is imported)."""
import json
import os
import subprocess

import alopex_harness as h
from alopex_peer import Dnsmasq, in_ns, netns_holder  # noqa: F401 (re-exported)
import linkd_env
from linkd_env import LINK, ROOT, SERVICE, ip_j

OBJMGR = 'org.freedesktop.DBus.ObjectManager'


# ---- linkd's published state -------------------------------------------------------------
def managed_objects(sb):
    """GetManagedObjects at the manager: {path: {iface: {prop: value}}} (values unwrapped)."""
    rc, out, err = sb.busctl('--json=short', 'call', SERVICE, ROOT, OBJMGR, 'GetManagedObjects',
                             timeout=120)
    if rc != 0:
        raise RuntimeError(f'GetManagedObjects failed: {err.strip()}')
    data = json.loads(out)['data'][0]
    return {path: {iface: {k: v['data'] for k, v in props.items()}
                   for iface, props in ifaces.items()}
            for path, ifaces in data.items()}


def published(sb):
    """linkd's links as [(index, name)] (with duplicates, if it has any) and its addresses
    as a sorted list of (ifindex, family, address, prefixlen) (idem), from one call."""
    links, addrs = [], []
    for path, ifaces in managed_objects(sb).items():
        p = ifaces.get(LINK)
        if p is None:
            continue
        h.check_eq(path, linkd_env.link_path(p['Index']), f'object path of link {p["Index"]}')
        links.append((p['Index'], p['Name']))
        addrs += [(p['Index'], a[0], a[1], a[2]) for a in p['Addresses']]
    return sorted(links), sorted(addrs)


def kernel_links(sb):
    return sorted((l['ifindex'], l['ifname']) for l in ip_j(sb, 'link', 'show'))


def kernel_addrs(sb):
    fam = {'inet': 2, 'inet6': 10}
    return sorted((l['ifindex'], fam[a['family']], a['local'], a['prefixlen'])
                  for l in ip_j(sb, 'addr', 'show') for a in l.get('addr_info', [])
                  if a['family'] in fam)


def diff(kind, want, got, limit=8):
    """A short human description of how two sorted lists differ ('' when equal)."""
    if want == got:
        return ''
    w, g = set(want), set(got)
    dups = sorted({x for x in got if got.count(x) > 1}) if len(got) != len(g) else []
    return (f'{kind}: kernel {len(want)}, linkd {len(got)}; missing in linkd '
            f'{sorted(w - g)[:limit]}; extra in linkd {sorted(g - w)[:limit]}; '
            f'duplicated in linkd {dups[:limit]}')


def wait_consistent(sb, with_addresses=True, timeout=30):
    """Waits until linkd publishes exactly the kernel's links (index and name; and the
    addresses when asked), each once. On timeout the check fails naming the difference.
    Returns the agreed (links, addresses)."""
    last = {}

    def agree():
        kl = kernel_links(sb)
        ka = kernel_addrs(sb) if with_addresses else []
        pl, pa = published(sb)
        if not with_addresses:
            pa = []
        paths = sorted(linkd_env.links(sb))
        want_paths = sorted(linkd_env.link_path(i) for i, _ in kl)
        # The kernel again: a change between the two reads is not a disagreement of linkd.
        if kl != kernel_links(sb) or (with_addresses and ka != kernel_addrs(sb)):
            return None
        last['d'] = ' '.join(x for x in (diff('links', kl, pl), diff('addresses', ka, pa),
                                          diff('Manager.Links', want_paths, paths)) if x)
        return (kl, ka) if (kl, ka, want_paths) == (pl, pa, paths) else None
    try:
        return h.wait_until(agree, timeout, 0.2, 'linkd to publish the kernel\'s state')
    except TimeoutError:
        h.check(False, f'linkd disagrees with the kernel after {timeout}s: {last.get("d")}')


def check_alive(sb):
    h.check(sb.linkd.alive(), f'linkd exited ({sb.linkd.popen.returncode}):\n{sb.linkd.log()}')


def generation(sb):
    return linkd_env.mprop(sb, 'StateGeneration')


def linkd_log(sb):
    with open(sb.linkd.log_path, errors='replace') as f:
        return f.read()


def rss_kb(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError(f'no VmRSS for {pid}')


def ip_batch(sb, lines, netns_pid=None):
    """Runs `ip -batch -` (in the namespace of netns_pid when given); fails on an error."""
    argv = ['ip', '-batch', '-']
    if netns_pid is not None:
        argv = ['nsenter', '-t', str(netns_pid), '-n', *argv]
    rc, _, err = sb.run(argv, input=''.join(l + '\n' for l in lines), timeout=300)
    h.check_eq(rc, 0, f'ip -batch: {err[-2000:]}')


def write_profile(sb, name, text):
    d = os.path.join(sb.config_dir, 'links')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'w') as f:
        f.write(text)


# ---- peer namespaces and dnsmasq: tests/harness/alopex_peer.py ------------------------------

# ---- DHCP: dnsmasq in a peer namespace across ld0 (ours) / ld1 (peer) ---------------------
DHCP_PROFILE = '[match]\nname = "ld0"\n[ipv4]\ndhcp = true\n'


def dhcp_addrs(sb, dev='ld0'):
    """The 10.42.0.x addresses on dev as seen by `ip -j addr` (with their lifetimes)."""
    out = ip_j(sb, 'addr', 'show', 'dev', dev)
    return [a for a in out[0].get('addr_info', [])
            if a['family'] == 'inet' and a['local'].startswith('10.42.0.')] if out else []


def dhcp_routes(sb):
    return [r for r in ip_j(sb, 'route', 'show', 'table', 'all')
            if r.get('protocol') == 'dhcp']


def wait_bound(sb, timeout=30):
    h.wait_until(lambda: len(dhcp_addrs(sb)) == 1, timeout, 0.05, 'a DHCP address on ld0')
    idx = linkd_env.ifindex(sb, 'ld0')
    linkd_env.wait_lprop(sb, idx, 'DHCPState', 'bound', timeout=timeout)
    return dhcp_addrs(sb)[0]


class AddressWatch:
    """`ip -o monitor address` in the background: every address the kernel ever announced
    (independent of linkd), so a test can tell that an address never appeared."""

    def __init__(self, sb, name='ip-monitor'):
        self.proc = sb.spawn(name, ['ip', '-o', 'monitor', 'address'])
        # `ip monitor` prints nothing when it is ready; a probe address tells. It is added
        # again until seen: one made before the monitor subscribed is never reported.
        def seen():
            subprocess.run(['ip', 'addr', 'replace', '198.18.255.1/32', 'dev', 'lo'], check=True)
            subprocess.run(['ip', 'addr', 'del', '198.18.255.1/32', 'dev', 'lo'], check=True)
            return '198.18.255.1' in self.text()
        h.wait_until(seen, 10, 0.05, 'ip monitor running')

    def text(self):
        with open(self.proc.log_path, errors='replace') as f:
            return f.read()
