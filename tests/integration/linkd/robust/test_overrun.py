#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A forced rtnetlink overrun: linkd runs with `[netlink] receive_buffer = 4096` in
linkd.toml (the kernel's minimum, about two messages), is stopped with SIGSTOP while 150
veth pairs are created, addressed and set up (and, in a second round, deleted), then
continued. Its event socket overflows (ENOBUFS); linkd logs the resync and afterwards
publishes exactly the kernel's links and addresses (`ip -j link`, `ip -j addr`)."""
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, HERE)
import alopex_harness as h  # noqa: E402
import linkd_env  # noqa: E402
import robust_env as r  # noqa: E402

tap = h.Tap()
CTX = {}
PAIRS = 150
RESYNCED = 'resynced with the kernel after an overrun'


def stopped(sb, body):
    """Runs body() while linkd is stopped (SIGSTOP), then continues it."""
    pid = sb.linkd.pid
    os.kill(pid, signal.SIGSTOP)
    h.wait_until(lambda: open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0] == 'T',
                 5, 0.005, 'linkd stopped')
    try:
        body()
    finally:
        os.kill(pid, signal.SIGCONT)


def setup(sb):
    with open(os.path.join(sb.config_dir, 'linkd.toml'), 'w') as f:
        f.write('[netlink]\nreceive_buffer = 4096\n')
    linkd_env.setup(sb)
    CTX['base'] = r.wait_consistent(sb)[0]


def resyncs(sb):
    return r.linkd_log(sb).count(RESYNCED)


@tap.test(f'stopped while {PAIRS} veth pairs are made, addressed and set up: resync, state matches')
def _(sb):
    before = resyncs(sb)
    lines = [f'link add ov{i} type veth peer name op{i}' for i in range(PAIRS)]
    lines += [f'addr add 10.{50 + i // 250}.{i % 250}.1/24 dev ov{i}' for i in range(PAIRS)]
    lines += [f'addr add fd00:50::{i:x}/64 dev op{i}' for i in range(PAIRS)]
    lines += [f'link set ov{i} up' for i in range(0, PAIRS, 3)]
    stopped(sb, lambda: r.ip_batch(sb, lines))
    h.wait_until(lambda: resyncs(sb) > before, 30, 0.05, f'"{RESYNCED}" in linkd\'s log')
    h.diag(f'linkd logged {resyncs(sb) - before} resync(s)')
    links, addrs = r.wait_consistent(sb, timeout=30)
    h.check_eq(len(links), len(CTX['base']) + 2 * PAIRS, 'link count')
    h.check(sum(1 for a in addrs if a[2].startswith('10.5')) == PAIRS, 'the IPv4 addresses')
    r.check_alive(sb)


@tap.test('stopped while all of them are deleted: resync again, back to the links from before')
def _(sb):
    before = resyncs(sb)
    stopped(sb, lambda: r.ip_batch(sb, [f'link del ov{i}' for i in range(PAIRS)]))
    h.wait_until(lambda: resyncs(sb) > before, 30, 0.05, f'"{RESYNCED}" in linkd\'s log')
    links, _ = r.wait_consistent(sb, timeout=30)
    h.check_eq(links, CTX['base'], 'the links from before')
    r.check_alive(sb)


h.main(tap, setup)
