#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark: alopex-linkd from exec to READY=1 with 1,000 links (500 veth pairs, one
IPv4 address on each link) present, and its VmRSS/VmHWM at READY, against
systemd-networkd (Debian's) started the same way on the same links, in one run.

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


def extra(p):
    p.add_argument('--links', type=int, default=1000, help='links to create, an even number (default 1000)')


def create_links(sb, links):
    pairs = links // 2
    lines = [f'link add sa{i} type veth peer name sb{i}' for i in range(pairs)]
    lines += [f'addr add 10.{100 + i // 250}.{i % 250}.1/24 dev sa{i}' for i in range(pairs)]
    lines += [f'addr add 10.{150 + i // 250}.{i % 250}.1/24 dev sb{i}' for i in range(pairs)]
    b.ip_batch(sb, 'create', lines)
    count = len(b.sh(['ip', '-o', 'link', 'show']).splitlines()) - 1   # without lo
    addrs = len(b.sh(['ip', '-4', '-o', 'addr', 'show']).splitlines()) - 1
    if count != 2 * pairs or addrs != 2 * pairs:
        raise RuntimeError(f'created {count} links and {addrs} addresses, wanted {2 * pairs} of each')
    return count, addrs


def main():
    args = b.parse_args(__doc__.splitlines()[0], runs=15, extra=extra)
    if args.links < 2 or args.links % 2 or args.links > 20000:
        sys.exit('--links must be even, 2..20000')
    networkd = not args.no_networkd and os.path.exists(b.NETWORKD)
    b.enter(args)
    with b.h.Sandbox(name='bench-start') as sb:
        links, addrs = create_links(sb, args.links)
        if networkd:
            b.isolate_networkd(sb)
        confs = [b.NETWORK1_CONF] if networkd and os.path.exists(b.NETWORK1_CONF) else []
        sb.start_bus(extra_confs=confs)
        env = sb.env({'ALOPEX_LOG_LEVEL': 'info'})
        linkd = os.path.join(args.build_dir, 'daemons', 'linkd', 'alopex-linkd')
        contenders = [('alopex-linkd', [linkd])]
        if networkd:
            contenders.append(('systemd-networkd', b.networkd_argv()))
        results = {name: [] for name, _ in contenders}
        for run in range(-1, args.runs):   # run -1: warm-up, not counted
            order = contenders if run % 2 == 0 else list(reversed(contenders))
            for name, cmd in order:
                if name == 'systemd-networkd':
                    b.reset_networkd_state()
                r = b.measure(sb, args, ['ready', '--timeout', '30', '--', *cmd], env=env, log=name)
                if run >= 0:
                    results[name].append(r)
                b.wait_names_gone(sb)

    print(f'linkd-start: exec to READY=1 with {links} links ({links // 2} veth pairs, down) and '
          f'{addrs} IPv4 addresses, no profiles / .network files; {args.runs} runs, medians')
    print(f'  {"":18} {"READY ms":>9} {"VmRSS kB":>9} {"VmHWM kB":>9}   READY ms of each run')
    med = {}
    for name, _ in contenders:
        rs = results[name]
        med[name] = (b.median([r['ready_ms'] for r in rs]), b.median([r['rss_kb'] for r in rs]),
                     b.median([r['hwm_kb'] for r in rs]))
        print(f'  {name:18} {med[name][0]:9.1f} {med[name][1]:9.0f} {med[name][2]:9.0f}   '
              f'{b.runs_text([r["ready_ms"] for r in rs])}')
    print(f'  linkd\'s STATUS at READY: "{results["alopex-linkd"][-1].get("status", "")}" '
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
    return 0


if __name__ == '__main__':
    sys.exit(main())
