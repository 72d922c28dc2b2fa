#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark: a blocklist of 1,000,000 names brought into a running unbound (Debian's,
127.0.0.1:53 of a throwaway namespace) by dnsd-controller's chunked Applier (local_zones
diffs on the control socket, tests' alopex-test-unbound-control driving the Applier the
daemon will run) against the include file + `unbound-control reload_keep_cache` of the
same list, in one run; then a change of 1,000 names in that list, both ways. Meanwhile a
probe asks unbound for a local name over UDP every 10 ms: the slowest answer (and any
lost after 2 s) is what a client saw. Also unbound's RSS with the list.

    sudo /usr/bin/python3 bench/dns_blocklist/bench_blocklist.py --build-dir build-bench
    meson test -C build-bench --benchmark dns-blocklist
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
import benchlib as b  # noqa: E402

sys.path.insert(0, os.path.join(b.SOURCE_DIR, 'tests', 'integration', 'dns'))
import dns_env  # noqa: E402


def extra(p):
    p.add_argument('--names', type=int, default=1_000_000, help='names in the list (default 1,000,000)')
    p.add_argument('--change', type=int, default=1000, help='names taken out afterwards (default 1,000)')


def probed(fn):
    """Runs fn() with the probe asking; returns (fn's result, seconds, slowest answer s, lost)."""
    p = dns_env.Probe()
    p.start()
    t0 = time.monotonic()
    try:
        r = fn()
    finally:
        took = time.monotonic() - t0
        p.stop.set()
        p.join()
    return r, took, max(p.times, default=0), p.lost


def include(n, keep=None):
    keep = n if keep is None else keep
    with open(f"{dns_env.CTX['dir']}/blocklist.conf", 'w') as f:
        f.write('server:\n')
        f.writelines(f'  local-zone: "b{i}.big.example." always_nxdomain\n' for i in range(keep))


def reload_keep_cache():
    b.sh(['unbound-control', '-c', f"{dns_env.CTX['dir']}/unbound.conf", 'reload_keep_cache'])
    dns_env.h.wait_until(lambda: subprocess.run(['unbound-control', '-c', f"{dns_env.CTX['dir']}/unbound.conf",
                                                 'status'], capture_output=True).returncode == 0,
                         600, 0.02, 'unbound answering after the reload')


def blocked(name, want=True):
    """A contender's result checked with dig (a benchmark of something that did not
    happen measures nothing)."""
    got = 'status: NXDOMAIN' in dns_env.dig(name)
    if got != want:
        sys.exit(f'{name}: {"not " if want else ""}blocked after the change')


def rss_kb():
    with open(f"/proc/{dns_env.CTX['unbound'].pid}/status") as f:
        return int(f.read().split('VmRSS:')[1].split()[0])


def row(label, took, slowest, lost):
    return f'  {label:<44} {took:7.2f} s   slowest probe answer {1000 * slowest:7.1f} ms   lost {lost}'


def main():
    args = b.parse_args(__doc__.splitlines()[0], runs=3, extra=extra)
    driver = os.path.join(args.build_dir, 'tests', 'integration', 'dns', 'alopex-test-unbound-control')
    if not os.path.exists(driver):
        sys.exit(f'{driver} is not built (meson configure -Dtests=true; ninja)')
    b.enter(args)
    n, change = args.names, args.change
    with b.h.Sandbox(name='bench-dns') as sb:
        dns_env.setup_unbound(sb, f'include: "{sb.path("unbound")}/blocklist.conf"\n',
                              files={'blocklist.conf': 'server:\n'})
        d = dns_env.Driver(sb, 'driver', [driver, f"{dns_env.CTX['dir']}/control.sock", '900000'])
        d.expect('ready', 10)
        res = {k: [] for k in ('ours', 'ours_change', 'theirs', 'theirs_change')}
        rss = []
        print(f'{n} names, then {change} of them taken out; probe every 10 ms; {args.runs} run(s)')
        for run in range(args.runs):
            line, took, slow, lost = probed(lambda: d.ask(f'apply {n} big.example', 'applied ', 900))
            res['ours'].append((took, slow, lost))
            blocked(f'b{n - 1}.big.example')
            rss.append(rss_kb())
            print(f'run {run + 1}: {line}')
            _, took, slow, lost = probed(lambda: d.ask(f'apply {n - change} big.example', 'applied ', 900))
            res['ours_change'].append((took, slow, lost))
            blocked(f'b{n - 1}.big.example', False)
            d.ask('apply 0 big.example', 'applied ', 900)
            include(n)
            _, took, slow, lost = probed(reload_keep_cache)
            res['theirs'].append((took, slow, lost))
            blocked(f'b{n - 1}.big.example')
            include(n, n - change)
            _, took, slow, lost = probed(reload_keep_cache)
            res['theirs_change'].append((took, slow, lost))
            blocked(f'b{n - 1}.big.example', False)
            include(0)
            reload_keep_cache()
        med = {k: (statistics.median(t for t, _, _ in v), max(s for _, s, _ in v), sum(l for _, _, l in v))
               for k, v in res.items()}
        print('medians of the times; the slowest probe answer and the lost ones over all runs:')
        print(row(f'Applier, {n} names', *med['ours']))
        print(row(f'include + reload_keep_cache, {n} names', *med['theirs']))
        print(row(f'Applier, {change} taken out', *med['ours_change']))
        print(row(f'include + reload_keep_cache, {change} out', *med['theirs_change']))
        print(f'ratio reload/Applier: {med["theirs"][0] / med["ours"][0]:.2f} (list), '
              f'{med["theirs_change"][0] / med["ours_change"][0]:.2f} (change); '
              f'unbound RSS with the list (Applier): {statistics.median(rss) / 1024:.0f} MiB')


if __name__ == '__main__':
    main()
