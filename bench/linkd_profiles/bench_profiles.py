#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark: 1,000 static IPv4 addresses on one veth from one alopex-linkd profile,
against `ip -batch` of the same work and systemd-networkd with a .network file carrying
the same 1,000 Address= entries, in one run.

"Applied" means: the kernel holds all 1,000 addresses on the link, counted by
bench-measure from its own rtnetlink subscription (RTM_NEWADDR/RTM_DELADDR) and checked
with a dump at the end. Contenders, each timed from its own t0:
  ip -batch          t0 = exec of `ip -batch` (link up + 1,000 `addr add`)
  linkd SIGHUP       linkd already running and READY with no profile; the profile file
                     is written, t0 = SIGHUP: isolates reading the profile + planning +
                     applying (the number the 1.5x ip -batch target is about)
  linkd start        t0 = exec of alopex-linkd with the profile in place (start, first
                     dump, apply)
  networkd start     t0 = exec of systemd-networkd with the .network file in place
Before every run the link is set down and its addresses flushed. Runs rotate the order;
one warm-up round is not counted.
Everything in a throwaway network + mount + PID namespace with a private dbus-daemon;
IPv6 is off in the namespace; networkd gets LLDP=no, EmitLLDP=no, LinkLocalAddressing=no,
IPv6AcceptRA=no, DHCP=no, ConfigureWithoutCarrier=yes.

--spread is the issue's other shape: one address on each of 1,000 veths (1,000 veth
pairs, peers up), from 1,000 profile files / 1,000 .network files / one ip -batch with
1,000 `link set up` and 1,000 `addr add`; counted on every link but lo.

    sudo /usr/bin/python3 bench/linkd_profiles/bench_profiles.py --build-dir build-bench
    meson test -C build-bench --benchmark linkd-profiles
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import benchlib as b  # noqa: E402

DEV, PEER = 'bv0', 'bp0'
TARGET_RATIO = 1.5
NETWORKD_SETTINGS = ['DHCP=no', 'LinkLocalAddressing=no', 'IPv6AcceptRA=no', 'LLDP=no', 'EmitLLDP=no',
                     'ConfigureWithoutCarrier=yes']


def extra(p):
    p.add_argument('--addresses', type=int, default=1000, help='addresses (default 1000, at most 1024 '
                   'on one link)')
    p.add_argument('--spread', action='store_true', help='one address on each of N veths (N veth pairs, '
                   'N profiles, N .network files) instead of N on one veth')


def addresses(n):
    return [f'10.{100 + i // 250}.{i % 250}.1/24' for i in range(n)]


def profile_text(dev, addrs):
    body = ''.join(f'  "{a}",\n' for a in addrs)
    return f'[match]\nname = "{dev}"\n[link]\nup = true\n[ipv4]\naddresses = [\n{body}]\n'


def network_text(dev, addrs):
    return (f'[Match]\nName={dev}\n[Link]\nRequiredForOnline=no\n[Network]\n' +
            ''.join(s + '\n' for s in NETWORKD_SETTINGS) + ''.join(f'Address={a}\n' for a in addrs))


def layout(n, spread):
    """[(link, peer, [addresses])]: N addresses on bv0, or one on each of sv0..svN-1."""
    addrs = addresses(n)
    if not spread:
        return [(DEV, PEER, addrs)]
    return [(f'sv{i}', f'sp{i}', [a]) for i, a in enumerate(addrs)]


def main():
    args = b.parse_args(__doc__.splitlines()[0], runs=15, extra=extra)
    if not 1 <= args.addresses <= (10000 if args.spread else 1024):
        sys.exit('--addresses must be 1..1024 (the profile limit), or 1..10000 with --spread')
    networkd = not args.no_networkd and os.path.exists(b.NETWORKD)
    b.enter(args)
    n = args.addresses
    links = layout(n, args.spread)
    with b.h.Sandbox(name='bench-profiles') as sb:
        b.sh(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
        b.ip_batch(sb, 'create', [f'link add {d} type veth peer name {p}' for d, p, _ in links] +
                   [f'link set {p} up' for _, p, _ in links])
        if networkd:
            b.isolate_networkd(sb, {f'50-{d}.network': network_text(d, a) for d, _, a in links})
        confs = [b.NETWORK1_CONF] if networkd and os.path.exists(b.NETWORK1_CONF) else []
        sb.start_bus(extra_confs=confs)
        env = sb.env({'ALOPEX_LOG_LEVEL': 'info'})
        links_dir = os.path.join(sb.config_dir, 'links')
        os.makedirs(links_dir, exist_ok=True)
        batch = b.batch_file(sb, 'add', [f'link set {d} up' for d, _, _ in links] +
                             [f'addr add {a} dev {d}' for d, _, addrs in links for a in addrs])
        down = b.batch_file(sb, 'down', [f'link set {d} down' for d, _, _ in links] +
                            [f'addr flush dev {d}' for d, _, _ in links])
        linkd = os.path.join(args.build_dir, 'daemons', 'linkd', 'alopex-linkd')
        watch = ['addrs', '--dev', 'all' if args.spread else DEV, '--count', str(n), '--timeout', '120']

        sighups = [0]

        def write_profile():
            for d, _, addrs in links:
                with open(os.path.join(links_dir, f'50-{d}.toml'), 'w') as f:
                    f.write(profile_text(d, addrs))

        def clean():
            b.sh(['ip', '-batch', down])
            left = [l for l in b.sh(['ip', '-4', '-o', 'addr', 'show']).splitlines() if ': lo ' not in l]
            if left:
                raise RuntimeError(f'{len(left)} addresses left, e.g. {left[0]}')
            for d in (sb.runtime_dir, sb.state_dir, links_dir):
                b.sh(['find', d, '-mindepth', '1', '-delete'])
            if networkd:
                b.reset_networkd_state()
            b.wait_names_gone(sb)

        def ip_batch():
            return b.measure(sb, args, [*watch, '--', 'ip', '-batch', batch], env=env, log='ip-batch')

        def linkd_sighup():
            sighups[0] += 1
            p, stop = b.start_linkd(sb, args, f'linkd-sighup-{sighups[0]}')
            try:
                write_profile()
                return b.measure(sb, args, [*watch, '--signal', str(p.pid)], env=env, log='sighup')
            finally:
                stop()

        def linkd_start():
            write_profile()
            return b.measure(sb, args, [*watch, '--daemon', '--notify', '--', linkd], env=env,
                             log='linkd-start')

        def networkd_start():
            return b.measure(sb, args, [*watch, '--daemon', '--notify', '--', *b.networkd_argv()], env=env,
                             log='networkd-start')

        contenders = [('ip -batch', ip_batch), ('linkd SIGHUP', linkd_sighup), ('linkd start', linkd_start)]
        if networkd:
            contenders.append(('networkd start', networkd_start))
        results = {name: [] for name, _ in contenders}
        clean()
        for run in range(-1, args.runs):   # run -1: warm-up, not counted
            k = max(run, 0) % len(contenders)
            for name, fn in contenders[k:] + contenders[:k]:
                r = fn()
                if run >= 0:
                    results[name].append(r)
                clean()

    where = f'one on each of {n} veths (sv*)' if args.spread else f'on one veth ({DEV})'
    files = f'{len(links)} profile and .network file(s)'
    print(f'linkd-profiles: {n} static IPv4 addresses {where}, {files}; {args.runs} runs, medians in ms '
          f'until the kernel holds all {n}')
    med = {}
    for name, _ in contenders:
        ms = [r['ms'] for r in results[name]]
        med[name] = b.median(ms)
        note = ''
        if 'ready_ms' in results[name][0]:
            note = f'  (READY at {b.median([r["ready_ms"] for r in results[name]]):.1f})'
        print(f'  {name:15} {med[name]:9.1f}   runs: {b.runs_text(ms)}{note}')
    base = med['ip -batch']
    print(f'  ratio linkd SIGHUP / ip -batch:      {b.ratio(med["linkd SIGHUP"], base):7.3f}'
          f'   (target <= {TARGET_RATIO}: {"met" if med["linkd SIGHUP"] <= TARGET_RATIO * base else "MISSED"})')
    print(f'  ratio linkd start / ip -batch:       {b.ratio(med["linkd start"], base):7.3f}')
    if networkd:
        print(f'  ratio linkd start / networkd start:  {b.ratio(med["linkd start"], med["networkd start"]):7.3f}')
        print(f'  ratio networkd start / ip -batch:    {b.ratio(med["networkd start"], base):7.3f}')
        print(f'  networkd settings: {" ".join(NETWORKD_SETTINGS)} (LLDP off, IPv6 off in the namespace)')
    else:
        print('  (systemd-networkd left out: --no-networkd or not installed)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
