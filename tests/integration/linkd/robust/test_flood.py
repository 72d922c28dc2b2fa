#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A flood of link events while alopex-linkd runs: 500 veth pairs created in one
`ip -batch` (1,000 links), 250 of them renamed, 250 pairs set up (carrier, IPv6 link-local
addresses) and 100 set down again, then all deleted — well over 1,000 events. After each
burst linkd's published state (GetManagedObjects and Manager.Links) equals `ip -j link` /
`ip -j addr` exactly (indexes, names, addresses, each once); StateGeneration grew; the
daemon is alive; and a profile still applies to a link created after the flood."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, HERE)
import alopex_harness as h  # noqa: E402
import linkd_env  # noqa: E402
from linkd_env import ifindex, ip_j, lprop, veth, wait_lprop  # noqa: E402
import robust_env as r  # noqa: E402

tap = h.Tap()
PAIRS = 500
CTX = {}


def setup(sb):
    r.write_profile(sb, '50-post.toml', '[match]\nname = "pf*"\n[link]\nup = true\n'
                    '[ipv4]\naddresses = ["10.77.0.1/24"]\n')
    linkd_env.setup(sb)
    CTX['gen0'] = r.generation(sb)
    CTX['base'] = r.wait_consistent(sb)[0]


@tap.test(f'{PAIRS} veth pairs at once: linkd publishes exactly the kernel\'s links')
def _(sb):
    r.ip_batch(sb, [f'link add fa{i} type veth peer name fb{i}' for i in range(PAIRS)])
    links, _ = r.wait_consistent(sb, timeout=60)
    h.check_eq(len(links), len(CTX['base']) + 2 * PAIRS, 'link count')
    r.check_alive(sb)


@tap.test('renames, up and down in bulk: names, indexes and addresses still match')
def _(sb):
    lines = [f'link set fa{i} name fr{i}' for i in range(0, PAIRS, 2)]
    lines += [f'link set {"fr" if i % 2 == 0 else "fa"}{i} up' for i in range(0, PAIRS, 2)]
    lines += [f'link set fb{i} up' for i in range(0, PAIRS, 2)]
    lines += [f'link set fb{i} down' for i in range(0, PAIRS, 5)]
    r.ip_batch(sb, lines)
    links, _ = r.wait_consistent(sb, timeout=60)
    names = {n for _, n in links}
    h.check(all(f'fr{i}' in names and f'fa{i}' not in names for i in range(0, PAIRS, 2)),
            'renamed links published under their new names only')
    # A sample of per-link properties through the link objects, against ip -j.
    for i in (0, 10, 248):
        k = ip_j(sb, 'link', 'show', 'dev', f'fb{i}')[0]
        h.check_eq(lprop(sb, k['ifindex'], 'AdministrativeState'),
                   'up' if 'UP' in k['flags'] else 'down', f'admin state of fb{i}')
    r.check_alive(sb)


@tap.test('all deleted again: only the links from before remain; generation grew')
def _(sb):
    r.ip_batch(sb, [f'link del {"fr" if i % 2 == 0 else "fa"}{i}' for i in range(PAIRS)])
    links, _ = r.wait_consistent(sb, timeout=60)
    h.check_eq(links, CTX['base'], 'the links from before the flood')
    gen = r.generation(sb)
    h.check(gen > CTX['gen0'] + 2 * PAIRS, f'StateGeneration {CTX["gen0"]} -> {gen}')
    r.check_alive(sb)


@tap.test('after the flood a new link still gets its profile (up, static address)')
def _(sb):
    a, _ = veth(sb, 'pf0', 'pf0p')
    h.wait_until(lambda: any(x['local'] == '10.77.0.1' and x['prefixlen'] == 24 for x in
                             ip_j(sb, 'addr', 'show', 'dev', 'pf0')[0].get('addr_info', [])),
                 15, 0.02, '10.77.0.1/24 on pf0')
    h.check('UP' in ip_j(sb, 'link', 'show', 'dev', 'pf0')[0]['flags'], 'pf0 is up')
    wait_lprop(sb, a, 'Addresses', lambda v: ('10.77.0.1', 'static') in {(x[1], x[7]) for x in v})
    h.check_eq(ifindex(sb, 'pf0'), a, 'pf0 index')
    r.wait_consistent(sb)
    r.check_alive(sb)


h.main(tap, setup)
