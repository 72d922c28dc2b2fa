#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Container veths: 200 veth pairs whose peer ends are moved into 40 other network
namespaces (5 each, as a container host has them), and links, addresses and routes made
and churned inside those namespaces. linkd's published links are exactly its own
namespace's `ip -j link` set (the host ends, never a container's links), and its RSS
(VmRSS) does not grow meaningfully with what happens in the other namespaces. At the end
the namespaces go, the host ends with them, and linkd follows."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, HERE)
import alopex_harness as h  # noqa: E402
import linkd_env  # noqa: E402
import robust_env as r  # noqa: E402

tap = h.Tap()
CTX = {}
NS, PER_NS = 40, 5
PAIRS = NS * PER_NS


def sanitized(sb):
    """Whether linkd is an ASan build (its own maps show libasan)."""
    with open(f'/proc/{sb.linkd.pid}/maps') as f:
        return 'libasan' in f.read()


def rss(sb):
    return r.rss_kb(sb.linkd.pid)


def setup(sb):
    # In an ASan build freed memory sits in quarantine (256 MB) instead of being reused,
    # so RSS grows with every allocation and says nothing about state kept: switch the
    # quarantine off for this test's linkd (use-after-free checks stay in the others).
    asan = os.environ.get('ASAN_OPTIONS', '')
    os.environ['ASAN_OPTIONS'] = ':'.join(x for x in (asan, 'quarantine_size_mb=0',
                                                      'thread_local_quarantine_size_kb=0') if x)
    linkd_env.setup(sb)
    CTX['base'] = r.wait_consistent(sb)[0]
    CTX['holders'] = [r.netns_holder(sb, f'ns{j}') for j in range(NS)]
    # Warm up the bus paths the measurements use, then take the baseline.
    for _ in range(3):
        r.published(sb)
    CTX['rss0'] = rss(sb)
    CTX['asan'] = sanitized(sb)


@tap.test(f'{PAIRS} veth pairs, peers moved into {NS} namespaces: linkd has only its own links')
def _(sb):
    r.ip_batch(sb, [f'link add cv{i} type veth peer name ce{i}' for i in range(PAIRS)])
    r.ip_batch(sb, [f'link set ce{i} netns {CTX["holders"][i // PER_NS].pid}' for i in range(PAIRS)]
               + [f'link set cv{i} up' for i in range(PAIRS)])
    links, _ = r.wait_consistent(sb, timeout=60)
    names = {n for _, n in links}
    h.check_eq(len(links), len(CTX['base']) + PAIRS, 'own links: the base plus the host ends')
    h.check(not any(n.startswith('ce') for n in names), 'no container end published')
    r.check_alive(sb)
    for _ in range(3):
        r.published(sb)
    CTX['rss1'] = rss(sb)


@tap.test('links, addresses and routes made and churned in the namespaces do not reach linkd')
def _(sb):
    gen = r.generation(sb)
    for j, holder in enumerate(CTX['holders']):
        lines = ['link set lo up']
        for k in range(PER_NS):
            i = j * PER_NS + k
            lines += [f'link set ce{i} up', f'addr add 10.{100 + j}.{k}.2/24 dev ce{i}',
                      f'addr add fd00:{j}:{k}::2/64 dev ce{i}']
        lines += [f'link add nd{k} type veth peer name np{k}' for k in range(10)]
        lines += [f'link set nd{k} up' for k in range(10)] + [f'link set np{k} up' for k in range(10)]
        lines += [f'addr add 172.16.{k}.1/24 dev nd{k}' for k in range(10)]
        lines += [f'route add 192.168.{k}.0/24 via 172.16.{k}.2 dev nd{k} onlink' for k in range(10)]
        lines += ['route add default via 10.%d.0.1' % (100 + j)]
        lines += [f'link del nd{k}' for k in range(0, 10, 2)]
        r.ip_batch(sb, lines, netns_pid=holder.pid)
    links, addrs = r.wait_consistent(sb, timeout=60)
    names = {n for _, n in links}
    h.check(not any(n.startswith(('nd', 'np', 'ce')) for n in names), 'no namespace-internal link published')
    h.check(not any(a[2].startswith(('10.1', '172.16.', 'fd00:')) for a in addrs),
            'no namespace-internal address published')
    # The host ends got their carrier (their peers are up): that much linkd does see.
    h.check(r.generation(sb) >= gen, 'StateGeneration')
    r.check_alive(sb)
    for _ in range(3):
        r.published(sb)
    rss2 = rss(sb)
    rss0, rss1 = CTX['rss0'], CTX['rss1']
    h.diag(f'linkd VmRSS: {rss0} kB at start, {rss1} kB with {PAIRS} host ends (+{rss1 - rss0}), '
           f'{rss2} kB after the namespace activity (+{rss2 - rss1}); '
           f'{"ASan build" if CTX["asan"] else "plain build"}')
    # Allowed growth (kB) with the activity inside the other namespaces (none of linkd's
    # business) and in all, the 200 host ends included. ASan's redzones and shadow
    # memory make every allocation bigger, hence its looser bounds.
    bound_ns, bound_all = (2048, 4096) if CTX['asan'] else (1024, 2048)
    h.check(rss2 - rss1 < bound_ns, f'RSS grew {rss2 - rss1} kB with the namespace activity '
            f'(bound {bound_ns} kB)')
    h.check(rss2 - rss0 < bound_all, f'RSS grew {rss2 - rss0} kB in all (bound {bound_all} kB)')


@tap.test('the namespaces go: their host ends vanish, linkd is back to where it started')
def _(sb):
    for holder in CTX['holders']:
        holder.popen.kill()
        holder.popen.wait()
    # The kernel dismantles dead namespaces asynchronously (its netns cleanup work).
    h.wait_until(lambda: not any(n.startswith('cv') for _, n in r.kernel_links(sb)), 60, 0.1,
                 'the host ends gone from the kernel')
    links, _ = r.wait_consistent(sb, timeout=60)
    h.check_eq(links, CTX['base'], 'the links from before')
    r.check_alive(sb)


h.main(tap, setup)
