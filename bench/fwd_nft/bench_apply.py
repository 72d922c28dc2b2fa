#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Full applies and single-element adds: alopex-fwd against `nft` in the same run.

(b) full apply of a policy with --rules rules (10,000) and of a named set with --elements
    elements (100,000):
      fwd Reload    `busctl call ... Reload` end to end (firewall.toml alternating between
                    two versions that differ in one rule / one element), fwd running;
                    interleaved with `nft -f` replacing its table (one of each per run,
                    their order alternating), so both meet the same machine load; the
                    ratio is printed of the medians and as the median of the per-run ratios
      fwd start     exec to READY=1 (bench-measure), no table in the kernel before
      nft -f        the equivalent text ruleset replacing its table (`delete table` +
                    the table, one transaction) and into an empty kernel. The text is
                    fwd's own table (`nft list table inet alopex`, renamed, its owner/
                    persist flags left out); without fwd, a generated ruleset of the same
                    shape ("generated" in the output).
(c) one element added to a set that holds --elements elements:
      fwd AddRule   `busctl call ... AddRule` of an element-shaped runtime rule (tcp dport
                    80 from one /32, accept) while fwd holds --elements - 1 such rules
                    (seeded through $STATE_DIRECTORY/runtime.json), end to end
      nft           `nft add element` of the same kind of element into the copy of that set
    plus `busctl call ... Version` (the cost of busctl and one bus round trip alone).

    bench/fwd_nft/bench_apply.py --build-dir build-bench [--runs 5] [--rules N]
                                 [--elements N] [--adds N] [--only rules|set|add]
                                 [--add-elements N] [--start-timeout S] [--no-fwd]
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True   # run from the source tree: leave no __pycache__ there
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fwd_bench as fb  # noqa: E402
from fwd_bench import benchlib, h, row, sh, timed  # noqa: E402

STARTS = [0]   # fwd starts so far (each needs its own notify socket name)
ZONE = '[zones.wan]\ninterfaces = ["fw0"]\ninput = "drop"\nforward = "drop"\n'


def extra(p):
    p.add_argument('--rules', type=int, default=10000, help='rules of the big policy (default 10000)')
    p.add_argument('--elements', type=int, default=100000, help='elements of the big set (default 100000)')
    p.add_argument('--adds', type=int, default=20, help='single-element adds per contender (default 20)')
    p.add_argument('--only', choices=('rules', 'set', 'add'), help='run one part only')
    p.add_argument('--add-elements', type=int,
                   help='size of the set in the single-add part (default: --elements)')
    p.add_argument('--start-timeout', type=float, default=180,
                   help='seconds fwd may take to start with the seeded runtime rules (default 180)')


def host(i, base=10):
    """The i-th host of a sequence of non-adjacent IPv4 addresses (no range merging)."""
    return f'{base}.{(i >> 15) & 255}.{(i >> 7) & 255}.{(i & 127) * 2}'


# ---- the workloads, as firewall.toml and as generated nft text ----------------------------
def rules_toml(n, variant):
    out = [ZONE]
    for i in range(n):
        port = 10000 + i % 50000 + (1 if variant and i == n - 1 else 0)
        out.append(f'[[zones.wan.rules]]\nproto = "tcp"\ndport = [{port}]\n'
                   f'saddr = "{host(i, 172)}/32"\naction = "accept"\n')
    return '\n'.join(out)


def set_toml(n, variant):
    elems = [host(i) for i in range(n)]
    if variant:
        elems[-1] = '192.0.2.77'
    body = ', '.join(f'"{e}"' for e in elems)
    return (f'[sets]\nbig = [{body}]\n\n{ZONE}\n[[zones.wan.rules]]\nproto = "tcp"\n'
            'dport = [5000]\nsaddr = "@big"\naction = "accept"\n')


GEN_HEAD = """table inet {name} {{
\tchain input {{
\t\ttype filter hook input priority filter; policy accept;
\t\tiif "lo" accept
\t\tct state established,related accept
\t\tct state invalid drop
\t\tiifname vmap {{ "fw0" : jump wan_input }}
\t}}
"""


def rules_nft(name, n, variant):
    lines = [GEN_HEAD.format(name=name), '\tchain wan_input {']
    for i in range(n):
        port = 10000 + i % 50000 + (1 if variant and i == n - 1 else 0)
        lines.append(f'\t\tip saddr {host(i, 172)} tcp dport {port} counter accept')
    lines += ['\t\tcounter drop', '\t}', '}']
    return '\n'.join(lines) + '\n'


def set_nft(name, n, variant):
    elems = [host(i) for i in range(n)]
    if variant:
        elems[-1] = '192.0.2.77'
    return (GEN_HEAD.format(name=name) + '\tset set_big4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n'
            f'\t\telements = {{ {", ".join(elems)} }}\n\t}}\n\tchain wan_input {{\n'
            '\t\tip saddr @set_big4 tcp dport 5000 counter accept\n\t\tcounter drop\n\t}\n}\n')


def replace_text(name, body):
    """One nft -f transaction that replaces table inet NAME by body."""
    return f'table inet {name}\ndelete table inet {name}\n' + body


# ---- fwd -----------------------------------------------------------------------------------
def fwd_reference(sb, toml_a, toml_b, name):
    """Loads both versions into fwd once; returns fwd's own dump of each as table NAME."""
    texts = []
    fb.write_config(sb, toml_a)
    STARTS[0] += 1
    p, stop = fb.start_fwd(sb, name=f'alopex-fwd-ref-{STARTS[0]}')
    try:
        for i, t in enumerate((toml_a, toml_b)):
            if i:
                fb.write_config(sb, t)
                timed(fb.busctl_argv(sb, 'Reload'))
            texts.append(fb.copy_of_table(sh(['nft', 'list', 'table', 'inet', 'alopex']), name))
    finally:
        stop()
    fb.delete_table('inet', 'alopex')
    return texts


def fwd_start(sb, args, toml_a, tag):
    """[(exec -> READY=1 ms, no table in the kernel)...] over args.runs."""
    starts = []
    for i in range(args.runs):
        fb.delete_table('inet', 'alopex')
        fb.write_config(sb, toml_a)
        r = benchlib.measure(sb, args, ['ready', '--timeout', '600', '--',
                                        os.path.join(args.build_dir, fb.FWD)],
                             log=f'fwd-start-{tag}-{i}')
        starts.append(r['ready_ms'])
        benchlib.wait_names_gone(sb, names=(fb.SERVICE,))
    fb.delete_table('inet', 'alopex')
    return starts


def nft_fresh(args, text_a, name):
    """[(nft -f into an empty kernel ms)...] over args.runs."""
    fresh = []
    for i in range(args.runs):
        fb.delete_table('inet', name)
        ms, _ = timed(['nft', '-f', '-'], input=text_a)
        fresh.append(ms)
    fb.delete_table('inet', name)
    return fresh


def replace_runs(sb, args, toml_a, toml_b, text_a, text_b, name, tag):
    """fwd Reload and nft -f replacing its table, interleaved (one of each per run, their
    order alternating), so a change in the machine's load hits both alike: ([fwd ms...],
    [nft ms...]); fwd's list is empty with --no-fwd. One warm-up round is not counted."""
    fwd, nft = [], []
    fb.delete_table('inet', name)
    timed(['nft', '-f', '-'], input=text_a)
    stop = None
    if not args.no_fwd:
        fb.delete_table('inet', 'alopex')
        fb.write_config(sb, toml_a)
        p, stop = fb.start_fwd(sb, name=f'alopex-fwd-{tag}')
    try:
        for i in range(args.runs + 1):
            b = i % 2 == 0   # version b on even rounds, a on odd ones: always a change
            for who in (('fwd', 'nft') if i % 2 == 0 else ('nft', 'fwd')):
                if who == 'nft':
                    ms, _ = timed(['nft', '-f', '-'], input=replace_text(name, text_b if b else text_a))
                    if i:
                        nft.append(ms)
                elif stop:
                    fb.write_config(sb, toml_b if b else toml_a)
                    ms, _ = timed(fb.busctl_argv(sb, 'Reload'))
                    if i:
                        fwd.append(ms)
        if stop:
            err = fb.prop(sb, 'LastError')
            h.check(not err, f'fwd LastError: {err}')
    finally:
        if stop:
            stop()
        fb.delete_table('inet', 'alopex')
        fb.delete_table('inet', name)
    return fwd, nft


def part_apply(sb, args, what, n):
    toml = rules_toml if what == 'rules' else set_toml
    gen = rules_nft if what == 'rules' else set_nft
    ta, tb = toml(n, False), toml(n, True)
    source = 'generated'
    na, nb = gen('copy', n, False), gen('copy', n, True)
    if not args.no_fwd:
        try:
            ra, rb = fwd_reference(sb, ta, tb, 'copy')
            timed(['nft', '-c', '-f', '-'], input=ra)   # parses and the kernel takes it
            na, nb, source = ra, rb, "fwd's own table"
        except Exception as e:   # noqa: BLE001 - say it and use the generated text
            print(f'# nft -f of fwd\'s dump failed, using the generated ruleset: {str(e)[:500]}', flush=True)
    label = f'{n} rules' if what == 'rules' else f'a set of {n} elements'
    print(f'\n(b) full apply of {label} (nft text: {source}, {len(na) // 1024} KiB)', flush=True)
    results = {}
    fwd_r, nft_r = replace_runs(sb, args, ta, tb, na, nb, 'copy', what)
    results['nft -f, replacing its table'] = nft_r
    if not args.no_fwd:
        results['fwd Reload (busctl, end to end)'] = fwd_r
    results['nft -f, empty kernel'] = nft_fresh(args, na, 'copy')
    if not args.no_fwd:
        results['fwd exec -> READY=1, empty kernel'] = fwd_start(sb, args, ta, what)
    for k, v in results.items():
        print(row(k, v), flush=True)
    if not args.no_fwd:
        paired = sorted(f / n for f, n in zip(fwd_r, nft_r))
        print(fb.ratio_line('replace', 'fwd Reload', fwd_r, 'nft -f', nft_r) +
              f' (target <= 1); paired runs: median {fb.med(paired):.2f}, '
              f'{sum(r <= 1 for r in paired)} of {len(paired)} <= 1')
        print(fb.ratio_line('from nothing', 'fwd start', results['fwd exec -> READY=1, empty kernel'],
                            'nft -f', results['nft -f, empty kernel']))


# ---- (c) one element into a big set --------------------------------------------------------
def seed_runtime(sb, n):
    rules = [{'id': i + 1, 'zone': 'wan', 'spec': f'zone=wan proto=tcp dport=80 saddr={host(i)}/32 action=accept',
              'expires_at_us': 0, 'comment': ''} for i in range(n)]
    state = {'version': 1, 'next_id': n + 1, 'panic': False, 'interfaces': {}, 'rules': rules}
    with open(os.path.join(sb.state_dir, 'runtime.json'), 'w') as f:
        json.dump(state, f, separators=(',', ':'))


def biggest_set(table):
    out = json.loads(sh(['nft', '-j', 'list', 'sets', 'table', 'inet', table]))['nftables']
    sets = [o['set'] for o in out if 'set' in o]
    sizes = {}
    for s in sets:
        listed = json.loads(sh(['nft', '-j', 'list', 'set', 'inet', table, s['name']]))['nftables']
        sizes[s['name']] = (len(next(o['set'] for o in listed if 'set' in o).get('elem', [])), s)
    name = max(sizes, key=lambda k: sizes[k][0])
    return name, sizes[name][0], sizes[name][1]


def element_text(setobj, i):
    types = setobj['type'] if isinstance(setobj['type'], list) else [setobj['type']]
    parts = []
    for t in types:
        if t == 'ipv4_addr':
            parts.append(host(i, 192) if 'interval' not in setobj.get('flags', []) else f'{host(i, 192)}/32')
        elif t == 'inet_service':
            parts.append('80')
        elif t == 'inet_proto':
            parts.append('tcp')
        else:
            raise RuntimeError(f'element of type {t} not known to this benchmark: {setobj}')
    return ' . '.join(parts)


def fwd_add(sb, args, n, results):
    """fwd with n - 1 seeded element-shaped runtime rules: times AddRule (and Version);
    leaves a copy of its table as `inet copy`; returns where nft's set comes from."""
    fb.delete_table('inet', 'alopex')
    fb.write_config(sb, ZONE)
    seed_runtime(sb, n - 1)
    STARTS[0] += 1
    t0 = time.perf_counter()
    try:
        p, stop = fb.start_fwd(sb, name=f'alopex-fwd-add-{STARTS[0]}', timeout=args.start_timeout)
    except BaseException:
        for q in sb.procs:   # a daemon still busy starting must not load the nft runs
            if q.name == f'alopex-fwd-add-{STARTS[0]}' and q.alive():
                q.popen.kill()
                q.popen.wait()
        raise
    print(f'# fwd exec -> READY=1 with {n - 1} runtime rules: {time.perf_counter() - t0:.2f} s', flush=True)
    try:
        setname, size, _ = biggest_set('alopex')
        print(f'# fwd holds {size} elements in inet alopex {setname}', flush=True)
        fwd, ver = [], []
        for i in range(args.adds + 1):
            ms, out = timed(fb.busctl_argv(sb, 'AddRule', 'sus',
                                           f'zone=wan proto=tcp dport=80 saddr={host(i, 192)}/32 action=accept',
                                           3600, 'bench'))
            rid = out.split()[-1]
            timed(fb.busctl_argv(sb, 'RemoveRule', 't', rid))
            if i:
                fwd.append(ms)
            ms, _ = timed(fb.busctl_argv(sb, 'Version'))
            ver.append(ms)
        results['fwd AddRule (busctl, end to end)'] = fwd
        results['busctl Version (busctl + one round trip)'] = ver
    finally:
        stop()
    text = fb.copy_of_table(sh(['nft', 'list', 'table', 'inet', 'alopex']), 'copy')
    try:
        timed(['nft', '-f', '-'], input=text)
        return "a copy of fwd's table"
    except RuntimeError as e:
        print(f'# nft -f of fwd\'s dump failed, using a generated set: {str(e)[:500]}', flush=True)
        return 'generated'


def part_add(sb, args):
    n = args.add_elements or args.elements
    results = {}
    source = 'generated'
    if not args.no_fwd:
        try:
            source = fwd_add(sb, args, n, results)
        except Exception as e:   # noqa: BLE001 - report it, still measure nft
            print(f'# fwd failed in the single-add part: {str(e)[:1500]}', flush=True)
            source = 'generated'
        fb.delete_table('inet', 'alopex')
        if os.path.exists(os.path.join(sb.state_dir, 'runtime.json')):
            os.unlink(os.path.join(sb.state_dir, 'runtime.json'))
    if source == 'generated':
        fb.delete_table('inet', 'copy')
        elems = ', '.join(f'{host(i)} . 80' for i in range(n - 1))
        timed(['nft', '-f', '-'], input=f'table inet copy {{\n\tset rt4 {{\n\t\ttype ipv4_addr . inet_service\n'
                                         f'\t\tflags timeout\n\t\telements = {{ {elems} }}\n\t}}\n}}\n')
    setname, size, setobj = biggest_set('copy')
    print(f'\n(c) one element into a set of {size + 1} elements (nft: {source}, set {setname})', flush=True)
    nft = []
    for i in range(args.adds + 1):
        elem = element_text(setobj, i)
        ms, _ = timed(['nft', 'add', 'element', 'inet', 'copy', setname, f'{{ {elem} }}'])
        sh(['nft', 'delete', 'element', 'inet', 'copy', setname, f'{{ {elem} }}'])
        if i:
            nft.append(ms)
    results['nft add element'] = nft
    fb.delete_table('inet', 'copy')
    for k, v in results.items():
        print(row(k, v), flush=True)
    if 'fwd AddRule (busctl, end to end)' in results:
        print(fb.ratio_line('add one element', 'fwd AddRule', results['fwd AddRule (busctl, end to end)'],
                            'nft add element', nft))


def main():
    args = fb.parse_args('full applies and single adds: alopex-fwd vs nft', runs=5, extra=extra,
                         tools=('bench/tools/bench-measure',))
    benchlib.enter(args)
    with h.Sandbox(name='bench-fwd-apply') as sb:
        sh(['ip', 'link', 'add', 'fw0', 'type', 'veth', 'peer', 'name', 'pr0'])
        if not args.no_fwd:
            fb.start_bus(sb)
        print(f'# {args.runs} runs each (medians; every run listed), one warm-up not counted', flush=True)
        if args.only in (None, 'rules'):
            part_apply(sb, args, 'rules', args.rules)
        if args.only in (None, 'set'):
            part_apply(sb, args, 'set', args.elements)
        if args.only in (None, 'add'):
            part_add(sb, args)


if __name__ == '__main__':
    main()
