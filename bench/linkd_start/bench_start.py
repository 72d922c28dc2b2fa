#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark: alopex-linkd from exec to READY=1 with 1,000 links (500 veth pairs, one
IPv4 address on each link) present, and its VmRSS/VmHWM at READY, against
systemd-networkd (Debian's) started the same way on the same links, in one run.

With --routes V4,V6 (benchmark linkd-start-routes: 500000,100000) the same is measured
twice in one run: with an empty routing table, then with a full table in main as FRR or
BIRD install one (V4 IPv4 /24s and V6 IPv6 /48s, protocol bgp, via a gateway on one more
veth pair), and the ratio of the two printed per daemon. linkd's target: within 2x of
its start with the empty table, VmRSS < 16 MB.

alopex-linkd starts in two steps: READY=1 once links and addresses are in (and the
profiles' matches published), then its Startup ends when the routes are read and the
first profile round answered (STATUS= "following N links"). Both are measured: the
"started" columns give the second, and VmRSS/VmHWM read then, with every route read.

Both run as root in a throwaway network + mount + PID namespace, on a private
dbus-daemon, with no profiles / no .network files (both only follow the links: the time
is the first dump of links, addresses and routes, plus publishing them). READY=1 is the
sd_notify datagram on a socket bench-measure owns. Runs alternate who goes first;
one warm-up round is not counted.

    sudo /usr/bin/python3 bench/linkd_start/bench_start.py --build-dir build-bench
    meson test -C build-bench --benchmark linkd-start
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import benchlib as b  # noqa: E402

TARGET_READY_MS = 500
TARGET_RSS_KB = 10 * 1024
TARGET_ROUTES_RATIO = 2.0
TARGET_ROUTES_RSS_KB = 16 * 1024
STARTED_STATUS = 'following '   # linkd's STATUS= once its Startup has ended


def extra(p):
    p.add_argument('--links', type=int, default=1000, help='links to create, an even number (default 1000)')
    p.add_argument('--routes', default='', help='V4,V6: measure again with that many bgp routes in main '
                   '(e.g. 500000,100000)')
    p.add_argument('--ready-timeout', type=int, default=60, help='seconds a contender may take to READY=1')


def parse_routes(text):
    if not text:
        return None
    try:
        v4, v6 = (int(x) for x in text.split(','))
    except ValueError:
        sys.exit('--routes must be V4,V6')
    if not (0 <= v4 <= 4_000_000 and 0 <= v6 <= 1_000_000):
        sys.exit('--routes: at most 4000000 IPv4 and 1000000 IPv6 routes')
    return v4, v6


def run_all(sb, args, contenders, env):
    """args.runs measured runs of every contender (one warm-up round first), the order
    alternating; a contender that does not reach READY=1 in --ready-timeout gets None."""
    results = {name: [] for name, _ in contenders}
    for run in range(-1, args.runs):   # run -1: warm-up, not counted
        order = contenders if run % 2 == 0 else list(reversed(contenders))
        for name, cmd in order:
            if name == 'systemd-networkd':
                b.reset_networkd_state()
            started = ['--started', STARTED_STATUS] if name == 'alopex-linkd' else []
            try:
                r = b.measure(sb, args, ['ready', '--timeout', str(args.ready_timeout), *started, '--', *cmd],
                              env=env, log=name)
            except RuntimeError as e:
                print(f'  {name}: no READY=1 within {args.ready_timeout} s ({str(e).splitlines()[0]})')
                r = None
            if run >= 0:
                results[name].append(r)
            b.wait_names_gone(sb)
    return results


def medians(rs, prefix=''):
    """(READY ms, VmRSS kB, VmHWM kB) medians over the runs that reached READY, or None;
    with prefix='started_', the same at the end of linkd's Startup."""
    ok = [r for r in rs if r]
    if len(ok) < len(rs):
        return None
    key = 'started_ms' if prefix else 'ready_ms'
    return (b.median([r[key] for r in ok]), b.median([r[prefix + 'rss_kb'] for r in ok]),
            b.median([r[prefix + 'hwm_kb'] for r in ok]))


def print_routes(contenders, empty, full, installed):
    print(f'linkd-start-routes: the same links with {installed[0]} IPv4 + {installed[1]} IPv6 routes in main '
          f'(protocol bgp), medians')
    print(f'  {"":18} {"empty ms":>9} {"routes ms":>9} {"ratio":>6} {"VmRSS kB":>9} {"VmHWM kB":>9}   '
          'READY ms of each run with routes')
    for name, _ in contenders:
        e, f = medians(empty[name]), medians(full[name])
        if not f:
            print(f'  {name:18} {e[0] if e else float("nan"):9.1f} {"timeout":>9}')
            continue
        print(f'  {name:18} {e[0]:9.1f} {f[0]:9.1f} {b.ratio(f[0], e[0]):6.2f} {f[1]:9.0f} {f[2]:9.0f}   '
              f'{b.runs_text([r["ready_ms"] for r in full[name]])}')
    es, fs = medians(empty['alopex-linkd'], 'started_'), medians(full['alopex-linkd'], 'started_')
    if es and fs:
        print(f'  {"linkd started":18} {es[0]:9.1f} {fs[0]:9.1f} {b.ratio(fs[0], es[0]):6.2f} {fs[1]:9.0f} '
              f'{fs[2]:9.0f}   {b.runs_text([r["started_ms"] for r in full["alopex-linkd"]])}')
    e, f = medians(empty['alopex-linkd']), medians(full['alopex-linkd'])
    if e and f and fs:
        r = b.ratio(f[0], e[0])
        rss = max(f[1], fs[1])
        print(f'  targets: READY within {TARGET_ROUTES_RATIO:.0f}x of the empty table: '
              f'{"met" if r <= TARGET_ROUTES_RATIO else "MISSED"} ({r:.2f}x); VmRSS < 16 MB with every route '
              f'read: {"met" if rss < TARGET_ROUTES_RSS_KB else "MISSED"} ({rss / 1024:.1f} MiB)')
    print(f'  linkd\'s last STATUS: "{full["alopex-linkd"][-1].get("status", "") if full["alopex-linkd"][-1] else ""}"')


def main():
    args = b.parse_args(__doc__.splitlines()[0], runs=15, extra=extra)
    routes = parse_routes(args.routes)
    if args.links < 2 or args.links % 2 or args.links > 20000:
        sys.exit('--links must be even, 2..20000')
    networkd = not args.no_networkd and os.path.exists(b.NETWORKD)
    b.enter(args)
    with b.h.Sandbox(name='bench-start') as sb:
        links, addrs = b.create_links(sb, args.links)
        if networkd:
            b.isolate_networkd(sb)
        confs = [b.NETWORK1_CONF] if networkd and os.path.exists(b.NETWORK1_CONF) else []
        sb.start_bus(extra_confs=confs)
        env = sb.env({'ALOPEX_LOG_LEVEL': 'info'})
        linkd = os.path.join(args.build_dir, 'daemons', 'linkd', 'alopex-linkd')
        contenders = [('alopex-linkd', [linkd])]
        if networkd:
            contenders.append(('systemd-networkd', b.networkd_argv()))
        results = run_all(sb, args, contenders, env)
        with_routes = None
        if routes:
            installed = b.install_routes(sb, *routes)
            with_routes = run_all(sb, args, contenders, env)

    print(f'linkd-start: exec to READY=1 with {links} links ({links // 2} veth pairs, down) and '
          f'{addrs} IPv4 addresses, no profiles / .network files; {args.runs} runs, medians')
    print(f'  {"":18} {"READY ms":>9} {"VmRSS kB":>9} {"VmHWM kB":>9}   READY ms of each run')
    med = {}
    for name, _ in contenders:
        rs = results[name]
        med[name] = medians(rs)
        if not med[name]:
            raise RuntimeError(f'{name} did not reach READY=1 in every run')
        print(f'  {name:18} {med[name][0]:9.1f} {med[name][1]:9.0f} {med[name][2]:9.0f}   '
              f'{b.runs_text([r["ready_ms"] for r in rs])}')
        if name == 'alopex-linkd':
            s = medians(rs, 'started_')
            print(f'  {"linkd started":18} {s[0]:9.1f} {s[1]:9.0f} {s[2]:9.0f}   '
                  f'{b.runs_text([r["started_ms"] for r in rs])}')
    print(f'  linkd\'s last STATUS: "{results["alopex-linkd"][-1].get("status", "")}" '
          f'(links here: {links} + lo)')
    if networkd:
        l, n = med['alopex-linkd'], med['systemd-networkd']
        print(f'  {"ratio linkd/networkd":18} {b.ratio(l[0], n[0]):9.3f} {b.ratio(l[1], n[1]):9.3f} '
              f'{b.ratio(l[2], n[2]):9.3f}')
    else:
        print('  (systemd-networkd left out: --no-networkd or not installed)')
    l = med['alopex-linkd']
    print(f'  targets: READY < {TARGET_READY_MS} ms: {"met" if l[0] < TARGET_READY_MS else "MISSED"} '
          f'({l[0]:.1f}); VmRSS < 10 MB: {"met" if l[1] < TARGET_RSS_KB else "MISSED"} ({l[1] / 1024:.1f} MiB)')
    if routes:
        print_routes(contenders, results, with_routes, installed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
