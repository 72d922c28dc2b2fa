#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Address change -> zone set element committed: alopex-fwd against a shell reactor.

A veth (fw0) in a private network namespace; bench-fwd-addr-latency adds and removes
--count IPv4 /32 addresses on it, one at a time, and times each from the kernel's address
event to the commit notification of the matching element of the zone set. The change is
the tool's own rtnetlink request, which the kernel applies and announces inside sendto();
the clock is read before that call (an upper bound: it includes the kernel's own time for
the change, printed as `sendto`), and when the nf_tables multicast of the element comes.

Contenders (each alone, in alternating order over --runs runs):
  fwd    alopex-fwd with zone wan on fw0: elements of `inet alopex wan_addr4`
  shell  `ip -o -4 monitor address dev fw0 | while read ...; do nft add|delete element
         inet shell wan_addr4 { ADDR }; done` (the reactor a user would write)
Prints p50/p99 per run, medians, the ratio, and fwd's own LatencyHistogram.

    bench/fwd_nft/bench_addr.py --build-dir build-bench [--runs 3] [--count 1000] [--gap-ms 10]
                                [--no-fwd] [--fifo PRIO]

--fifo PRIO runs everything (driver, tool, fwd, bus, the shell reactor and its ip and nft)
under SCHED_FIFO PRIO, inherited: the contenders then meet no other load of the machine, so
what remains of the tail is their own. Without it, on a busy machine, p99 mostly measures
how long the reactor waits for a CPU (fwd's LatencyHistogram, from the event's delivery to
the commit, shows the difference).
"""
import os
import signal
import subprocess
import sys

sys.dont_write_bytecode = True   # run from the source tree: leave no __pycache__ there
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fwd_bench as fb  # noqa: E402
from fwd_bench import benchlib, h, sh  # noqa: E402

TOOL = 'bench/fwd_nft/bench-fwd-addr-latency'
SHELL_TABLE = 'table inet shell {\n\tset wan_addr4 {\n\t\ttype ipv4_addr\n\t}\n}\n'
REACTOR = r'''
ip -o -4 monitor address dev fw0 | while read -r first rest; do
    set -- $rest
    if [ "$first" = Deleted ]; then op=delete; a=$4; else op=add; a=$3; fi
    nft $op element inet shell wan_addr4 "{ ${a%/*} }"
done
'''


def extra(p):
    p.add_argument('--count', type=int, default=1000, help='address changes per run (default 1000)')
    p.add_argument('--gap-ms', type=float, default=10,
                   help='idle time after each change, so each is an isolated event (default 10; 0: back to back)')
    p.add_argument('--fifo', type=int, metavar='PRIO',
                   help='run everything under SCHED_FIFO PRIO (1..99), away from other load')


def measure(sb, args, table, log):
    exe = os.path.join(args.build_dir, TOOL)
    r = subprocess.run([exe, '--dev', 'fw0', '--table', table, '--set', 'wan_addr4',
                        '--count', str(args.count), '--timeout', '10', '--gap-ms', str(args.gap_ms)],
                       capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f'{TOOL} ({table}): {r.stderr.strip()}\n--- log ---\n{log()}')
    first = r.stdout.splitlines()[0]
    out = {}
    for kv in first.split():
        k, v = kv.split('=', 1)
        out[k] = v if k == 'ts' else float(v)
    return out


def in_set(table, addr):
    r = subprocess.run(['nft', 'list', 'set', 'inet', table, 'wan_addr4'], capture_output=True, text=True)
    return addr in r.stdout


def run_shell(sb, args):
    sh(['nft', '-f', '-'], input=SHELL_TABLE)
    proc = subprocess.Popen(['sh', '-c', REACTOR], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=open(sb.path('log', 'reactor.log'), 'ab'))
    try:
        probe = '10.76.255.254'
        # ip monitor prints nothing once subscribed: add a probe until its element shows.
        subprocess.run(['ip', 'addr', 'replace', f'{probe}/32', 'dev', 'fw0'], check=True)
        h.wait_until(lambda: in_set('shell', probe) or _readd(probe), 20, 0.05, 'reactor running')
        subprocess.run(['ip', 'addr', 'del', f'{probe}/32', 'dev', 'fw0'], check=True)
        h.wait_until(lambda: not in_set('shell', probe), 10, 0.01, 'probe element gone')
        return measure(sb, args, 'shell', lambda: open(sb.path('log', 'reactor.log')).read()[-3000:])
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        fb.delete_table('inet', 'shell')


def _readd(addr):
    """The monitor may have subscribed after the first add: do it again (never true)."""
    subprocess.run(['ip', 'addr', 'del', f'{addr}/32', 'dev', 'fw0'], capture_output=True)
    subprocess.run(['ip', 'addr', 'add', f'{addr}/32', 'dev', 'fw0'], check=True)
    return False


def run_fwd(sb, args, n):
    fb.write_config(sb, fb.WAN_CONFIG)
    p, stop = fb.start_fwd(sb, name=f'alopex-fwd-{n}')
    try:
        before = fb.prop(sb, 'LatencyHistogram')
        res = measure(sb, args, 'alopex', lambda: p.log(40))
        after = fb.prop(sb, 'LatencyHistogram')
        delta = [(b, c - dict((x, y) for x, y in before).get(b, 0)) for b, c in after]
        res['hist'] = fb.histogram_text(delta)
        return res
    finally:
        stop()


def main():
    args = fb.parse_args('address change -> zone set element: alopex-fwd vs a shell reactor',
                         runs=3, extra=extra, tools=(TOOL,))
    benchlib.enter(args)
    if args.fifo:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(args.fifo))   # children inherit it
    print(f'# scheduling: {"SCHED_FIFO " + str(args.fifo) if args.fifo else "normal (SCHED_OTHER)"}', flush=True)
    with h.Sandbox(name='bench-fwd-addr') as sb:
        sh(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'])
        sh(['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1'])
        sh(['ip', 'link', 'add', 'fw0', 'type', 'veth', 'peer', 'name', 'pr0'])
        sh(['ip', 'link', 'set', 'fw0', 'up'])
        sh(['ip', 'link', 'set', 'pr0', 'up'])
        if not args.no_fwd:
            fb.start_bus(sb)
        results = {'fwd': [], 'shell': []}
        contenders = ['shell'] + ([] if args.no_fwd else ['fwd'])
        # Warm-up (not counted): caches, page-ins.
        small = argparse_copy(args, count=min(50, args.count))
        for c in contenders:
            run_shell(sb, small) if c == 'shell' else run_fwd(sb, small, 0)
        for i in range(args.runs):
            order = contenders if i % 2 == 0 else list(reversed(contenders))
            for c in order:
                r = run_shell(sb, args) if c == 'shell' else run_fwd(sb, args, i + 1)
                results[c].append(r)
                print(f'# run {i + 1} {c}: p50 {r["add_p50_us"]:.0f} us, p99 {r["add_p99_us"]:.0f} us, '
                      f'max {r["add_max_us"]:.0f} us (del p50 {r["del_p50_us"]:.0f} us, '
                      f'p99 {r["del_p99_us"]:.0f} us; sendto p50 {r["sendto_p50_us"]:.0f} us; {r["ts"]} timestamps)'
                      + (f'; fwd histogram: {r["hist"]}' if c == 'fwd' else ''), flush=True)
        print(f'\naddress change -> element committed, {args.count} adds + {args.count} deletes per run '
              f'({args.gap_ms:g} ms apart), kernel event to nf_tables commit event (us)')
        names = {'fwd': 'alopex-fwd', 'shell': 'shell reactor (ip monitor | nft)'}
        for c in contenders:
            rs = results[c]
            for key, label in (('add_p50_us', 'add p50'), ('add_p99_us', 'add p99'),
                               ('del_p50_us', 'del p50'), ('del_p99_us', 'del p99')):
                print(fb.row(f'{names[c]} {label}', [r[key] for r in rs], 'us'))
        if not args.no_fwd:
            for key in ('add_p50_us', 'add_p99_us'):
                s, f = [r[key] for r in results['shell']], [r[key] for r in results['fwd']]
                print(fb.ratio_line(key.replace('_us', ''), 'shell', s, 'fwd', f) + ' (how many times faster fwd is)')
            print('target (issue 4): fwd p99 < 1 ms, several times faster than the shell reactor')


def argparse_copy(args, **changes):
    import copy
    a = copy.copy(args)
    for k, v in changes.items():
        setattr(a, k, v)
    return a


if __name__ == '__main__':
    main()
