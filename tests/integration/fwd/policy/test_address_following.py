#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Zone addresses follow the kernel: with a zone rule "accept tcp 8080 to @self from
management", an address added on the zone's interface by `ip addr` (not by fwd) becomes an
element of `inet alopex wan_addr4`, a connect to it on 8080 works, and after `ip addr del`
the element is gone and connects fail. A local address outside the zone (on lo, reached
over the zone's veth) never gets through on 8080. The latency from `ip addr add` to the
element being listed, and fwd's own LatencyHistogram, are reported as diagnostics."""
import statistics
import subprocess
import time

import alopex_harness as h
import fwd_env as f

tap = h.Tap()
NEW = '10.70.0.50'
ROUNDS = 20


def setup(sb):
    f.setup(sb, f.policy(f.SELF_8080))
    sb.listeners = f.Listeners((8080,))


def ip(*args):
    subprocess.run(['ip', *args], check=True)


def wait_element(sb, addr, present, timeout=5):
    def ok():
        return (addr in f.zone_addr4(sb)) == present
    h.wait_until(ok, timeout, 0.001, f'{addr} {"in" if present else "gone from"} wan_addr4')
    return time.monotonic()


@tap.test('8080 is open to the zone address from management only')
def _(sb):
    h.check(f.connects(sb, f.HOST_ADDR, 8080, f.ALLOWED_SRC), 'management -> zone address :8080')
    got = f.connect(sb, f.HOST_ADDR, 8080, f.DENIED_SRC, 1.0)
    h.check(not got.startswith('OK'), f'outside management got through: {got}')


@tap.test('8080 is closed on a local address that is not the zone\'s')
def _(sb):
    h.check(f.LO_ADDR not in f.zone_addr4(sb), f'{f.LO_ADDR} in wan_addr4')
    got = f.connect(sb, f.LO_ADDR, 8080, f.ALLOWED_SRC, 1.0)
    h.check(not got.startswith('OK'), f'{f.LO_ADDR}:8080 got through: {got}')
    # The path itself works (ICMP echo to that address is allowed by the zone).
    h.check(f.peer_ping(sb, f.LO_ADDR, f.ALLOWED_SRC, 3.0), f'no echo reply from {f.LO_ADDR}')


@tap.test('ip addr add/del on the zone interface: element and traffic follow')
def _(sb):
    h.check(NEW not in f.zone_addr4(sb), f'{NEW} in wan_addr4 before it exists')
    ip('addr', 'add', f'{NEW}/24', 'dev', f.HOST_IF)
    try:
        wait_element(sb, NEW, True)
        h.check(f.connects(sb, NEW, 8080, f.ALLOWED_SRC), f'management -> {NEW}:8080')
        got = f.connect(sb, NEW, 8080, f.DENIED_SRC, 1.0)
        h.check(not got.startswith('OK'), f'outside management -> {NEW}:8080 got through: {got}')
    finally:
        subprocess.run(['ip', 'addr', 'del', f'{NEW}/24', 'dev', f.HOST_IF], check=False)
    wait_element(sb, NEW, False)
    got = f.connect(sb, NEW, 8080, f.ALLOWED_SRC, 1.0)
    h.check(not got.startswith('OK'), f'{NEW}:8080 still reachable after ip addr del: {got}')
    h.check(f.HOST_ADDR in f.zone_addr4(sb), f'{f.HOST_ADDR} left wan_addr4 too')


@tap.test(f'latency of {ROUNDS} add/del rounds (ip addr -> element listed)')
def _(sb):
    before = f.latency_histogram(sb)
    adds, dels = [], []
    for i in range(ROUNDS):
        addr = f'10.70.0.{100 + i}'
        t0 = time.monotonic()
        ip('addr', 'add', f'{addr}/24', 'dev', f.HOST_IF)
        adds.append((wait_element(sb, addr, True) - t0) * 1000)
        t0 = time.monotonic()
        ip('addr', 'del', f'{addr}/24', 'dev', f.HOST_IF)
        dels.append((wait_element(sb, addr, False) - t0) * 1000)
    after = f.latency_histogram(sb)
    h.diag(f'ip addr add -> element listed by polling nft (upper bound, includes ip and nft '
           f'process starts): median {statistics.median(adds):.1f} ms, max {max(adds):.1f} ms')
    h.diag(f'ip addr del -> element gone: median {statistics.median(dels):.1f} ms, '
           f'max {max(dels):.1f} ms')
    delta = [(b, c - dict(before).get(b, 0)) for b, c in after]
    h.diag(f'fwd LatencyHistogram (these rounds): {f.histogram_text(delta)}')
    h.diag(f'fwd LatencyHistogram (all): {f.histogram_text(after)}')
    h.check(sum(c for _, c in delta) >= 2 * ROUNDS,
            f'LatencyHistogram counted {sum(c for _, c in delta)} events for {2 * ROUNDS} changes')
    gen = f.prop(sb, 'Generation')
    h.check(gen >= 2 * ROUNDS, f'Generation {gen} after {2 * ROUNDS} element changes')


@tap.test('the daemon is still running')
def _(sb):
    f.check_alive(sb)


h.main(tap, setup)
