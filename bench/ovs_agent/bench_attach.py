#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark: a container's veth created -> its OVS port has an ofport, through
ovs-agentd's Agent (rtnetlink + OVSDB, tests' alopex-test-ovs-agent driving the same
Agent the daemon runs, debounce_ms 0 by default: a reconcile at once, what comes while
its transaction is in flight coalesced into the next) against `ip link add` then `ovs-vsctl add-port`
(which waits for ovs-vswitchd, as a script would), in one run; and 1,000 veths created
at once -> all attached, against one hand-batched `ovs-vsctl` with 1,000 add-ports.

Each sample (the ovs-vsctl contender's veths named so that the agent, running too, leaves
them alone): t0 just before `ip link add NAME up type veth ...` (both contenders pay for
that process; the veth is created up in one request, as a container runtime does); the
agent's end is its "attached NAME ofport=N" line (cur_cfg caught up and the
interface has an ofport); ovs-vsctl's is its exit (it waits for cur_cfg itself). The
port is removed again between samples, and each sample starts with ovs-vswitchd idle
(ovs-vsctl del-port waits for it; after the agent's detach, an ovs-vsctl set that
waits for cur_cfg does: a value that changes, as ovs-vsctl sends nothing for a value
already set). p50 and p99 (a p99 of 100 samples by default, not their maximum) at 1, 200 and 1,000 ports on the
bridge (the others attached beforehand, the userspace datapath: ovs-vswitchd
--disable-system). Everything in a throwaway network + mount + PID namespace; IPv6 off
there (autoconf multicast from many veths would flood the userspace datapath).

    sudo /usr/bin/python3 bench/ovs_agent/bench_attach.py --build-dir build-bench
    meson test -C build-bench --benchmark ovs-attach
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
import benchlib as b  # noqa: E402

sys.path.insert(0, os.path.join(b.SOURCE_DIR, 'tests', 'integration', 'ovs-agentd'))
import ovs_env  # noqa: E402

BRIDGE = 'ovsbr0'


def extra(p):
    p.add_argument('--samples', type=int, default=100, help='creations timed at each size (default 100)')
    p.add_argument('--sizes', default='1,200,1000', help='ports on the bridge (default 1,200,1000)')
    p.add_argument('--batch', type=int, default=1000, help='veths created at once (default 1000; 0: skip)')
    p.add_argument('--debounce-ms', type=int, default=0, help="the agent's debounce_ms (default 0, as shipped)")


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def vsctl(d, *args, wait=False):
    argv = ['ovs-vsctl', f'--db=unix:{d}/db.sock', '--timeout=120'] + ([] if wait else ['--no-wait']) + list(args)
    return b.sh(argv)


def fill(sb, d, agent, first, count):
    """`count` more veths veth<first..>i0 attached by the agent (waited for)."""
    names = [f'veth{first + i}i0' for i in range(count)]
    b.ip_batch(sb, f'fill{first}', [f'link add {n} type veth peer name pf{first + i}' for i, n in enumerate(names)] +
               [f'link set {n} up' for n in names])
    got = 0
    while got < count:
        agent.expect('attached veth', 300)
        got += 1


_idle_waits = 0


def vswitchd_idle(d):
    """Returns once ovs-vswitchd applied everything so far (as after del-port's wait): a
    change that waits for cur_cfg. It must change something: ovs-vsctl sends no
    transaction, so bumps no next_cfg and waits for nothing, when the value is already
    set."""
    global _idle_waits
    _idle_waits += 1
    vsctl(d, 'set', 'Open_vSwitch', '.', f'external_ids:bench={_idle_waits}', wait=True)


def sample_agent(d, agent, name, peer):
    agent.take('attached')
    t0 = time.monotonic()
    b.sh(['ip', 'link', 'add', name, 'up', 'type', 'veth', 'peer', 'name', peer])
    agent.expect(f'attached {name} ', 60)
    took = time.monotonic() - t0
    b.sh(['ip', 'link', 'del', name])
    agent.expect(f'detached {name}', 60)
    vswitchd_idle(d)
    return took


def sample_vsctl(d, name, peer):
    t0 = time.monotonic()
    b.sh(['ip', 'link', 'add', name, 'up', 'type', 'veth', 'peer', 'name', peer])
    vsctl(d, 'add-port', BRIDGE, name, wait=True)
    took = time.monotonic() - t0
    vsctl(d, 'del-port', BRIDGE, name, wait=True)
    b.sh(['ip', 'link', 'del', name])
    return took


def line(label, values):
    ms = [1000 * v for v in values]
    return f'{label:<34} p50 {pct(ms, 50):7.1f} ms   p99 {pct(ms, 99):7.1f} ms   ({len(ms)} samples)'


def batch(sb, d, agent, n):
    """n veths at once: the agent vs one ovs-vsctl with n add-ports (after ip -batch)."""
    names = [f'vethb{i}' for i in range(n)]
    create = [f'link add {x} type veth peer name pb{i}' for i, x in enumerate(names)] + [f'link set {x} up' for x in names]
    agent.take('attached')
    t0 = time.monotonic()
    b.ip_batch(sb, 'batch-agent', create)
    for _ in range(n):
        agent.expect('attached vethb', 600)
    t_agent = time.monotonic() - t0
    b.ip_batch(sb, 'batch-del', [f'link del {x}' for x in names])
    for _ in range(n):
        agent.expect('detached vethb', 600)
    agent.proc.stop()
    t0 = time.monotonic()
    b.ip_batch(sb, 'batch-vsctl', create)
    args = []
    for x in names:
        args += ['--', 'add-port', BRIDGE, x]
    vsctl(d, *args, wait=True)
    t_vsctl = time.monotonic() - t0
    return t_agent, t_vsctl


def main():
    args = b.parse_args(__doc__.splitlines()[0], runs=1, extra=extra)
    driver = os.path.join(args.build_dir, 'tests', 'integration', 'ovs-agentd', 'alopex-test-ovs-agent')
    if not os.path.exists(driver):
        sys.exit(f'{driver} is not built (meson configure -Dtests=true; ninja)')
    sizes = [int(x) for x in args.sizes.split(',')]
    b.enter(args)
    with b.h.Sandbox(name='bench-ovs') as sb:
        b.sh(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
        d = ovs_env.create_db(sb)
        ovs_env.start_ovsdb(sb, d)
        vsctl(d, 'init')
        vsctl(d, 'add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev')
        ovs_env.start_vswitchd(sb, d)
        vswitchd_idle(d)   # returns once ovs-vswitchd runs
        agent = ovs_env.Driver(sb, 'ovs-agent', [driver, f'{d}/db.sock', BRIDGE, str(args.debounce_ms)])
        agent.expect('settled', 60)
        print(f'veth created -> ofport, userspace datapath, {args.samples} samples each; '
              f'agent debounce {args.debounce_ms} ms')
        present = 1   # the bridge's own port
        for size in sizes:
            if size - 1 > present:
                fill(sb, d, agent, 10000 + present, size - 1 - present)
                present = size - 1
            ours = [sample_agent(d, agent, f'veth9{i:03}i0', f'pa{i}') for i in range(args.samples)]
            theirs = [sample_vsctl(d, f'ct9{i:03}', f'pv{i}') for i in range(args.samples)]
            print(f'at {size} ports:')
            print('  ' + line('alopex ovs Agent', ours))
            print('  ' + line('ip link add + ovs-vsctl add-port', theirs))
            print(f'  ratio p99 ovs-vsctl/agent: {pct(theirs, 99) / pct(ours, 99):.2f}, '
                  f'p50 {statistics.median(theirs) / statistics.median(ours):.2f}')
        if args.batch:
            ta, tv = batch(sb, d, agent, args.batch)
            print(f'{args.batch} veths at once -> all attached: agent {ta:.2f} s, '
                  f'ip -batch + one ovs-vsctl with {args.batch} add-ports {tv:.2f} s (ratio {tv / ta:.2f})')


if __name__ == '__main__':
    main()
