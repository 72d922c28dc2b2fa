#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped default policy (units/examples/firewall.toml, its management set narrowed to
the peer's allowed subnet) against real traffic: from a peer namespace across a veth,
TCP connects to listeners on 22 and 9090 succeed from a management address and fail from
another address of the same peer; a port no rule allows fails from both; ICMP echo is
answered; a connection this host opens to the peer works (ct established on the way
back); and `nft -j list ruleset` shows our table with its chains and sets and a rule count
that scales with the services, not with anything else."""
import re
import socket
import subprocess

import alopex_harness as h
import fwd_env as f

tap = h.Tap()
PORTS = (22, 9090, 2222)


def setup(sb):
    f.require_fwd(sb)
    text, sb.zone = f.shipped_policy(sb)
    f.setup(sb, text)
    sb.listeners = f.Listeners(PORTS)


@tap.test('tcp 22 and 9090 are open from the management address')
def _(sb):
    for port in (22, 9090):
        got = f.connect(sb, f.HOST_ADDR, port, f.ALLOWED_SRC, 3.0)
        h.check_eq(got, f'OK hello {port}', f'connect {f.ALLOWED_SRC} -> :{port}')


@tap.test('tcp 22 and 9090 are closed from an address outside management')
def _(sb):
    for port in (22, 9090):
        got = f.connect(sb, f.HOST_ADDR, port, f.DENIED_SRC, 1.0)
        h.check(not got.startswith('OK'), f'connect {f.DENIED_SRC} -> :{port} got through: {got}')
    # The same peer, the other address: still open (the source made the difference).
    h.check(f.connects(sb, f.HOST_ADDR, 22, f.ALLOWED_SRC), 'control connect from management')


@tap.test('a port no rule allows is closed from every source')
def _(sb):
    for src in (f.ALLOWED_SRC, f.DENIED_SRC):
        got = f.connect(sb, f.HOST_ADDR, 2222, src, 1.0)
        h.check(not got.startswith('OK'), f'connect {src} -> :2222 got through: {got}')


@tap.test('ICMP echo is answered (from both peer addresses)')
def _(sb):
    for src in (f.ALLOWED_SRC, f.DENIED_SRC):
        h.check(f.peer_ping(sb, f.HOST_ADDR, src, 3.0), f'no echo reply to {src}')


@tap.test('an outbound connection to the peer works (established traffic comes back)')
def _(sb):
    f.peer_server(sb, f.ALLOWED_SRC, 7000)
    with socket.create_connection((f.ALLOWED_SRC, 7000), timeout=5) as s:
        rf = s.makefile('rb')
        h.check_eq(rf.readline().strip(), b'peer hello', 'banner from the peer')
        s.sendall(b'ping over established\n')
        h.check_eq(rf.readline().strip(), b'ping over established', 'echo from the peer')


@tap.test('nft -j list ruleset: our table, its chains and sets, a sane rule count')
def _(sb):
    items = f.nft_j(sb, 'list', 'ruleset')
    zone = sb.zone
    counts = f.check_table_shape(items, zone)
    h.diag(f'inet alopex: {counts}')
    # The three configured rules are in the zone's input chain, with their ports.
    wan_rules = [r for r in f.objects(items, 'rule') if r['chain'] == f'{zone}_input']
    text = ' '.join(str(r['expr']) for r in wan_rules)
    h.check('set_management4' in text and 'echo-request' in text,
            f'management set / echo-request in no rule of {zone}_input: {text[:2000]}')
    # The ports: in the rules or in the sets they look up (nft's JSON of those sets).
    referenced = set(re.findall(r"'@([A-Za-z0-9_]+)'", text))
    ports = set()
    for o in f.objects(items, 'set'):
        if o['name'] in referenced:
            ports |= {e for e in (f.elem_text(x) for x in o.get('elem', []))}
    for port in ('22', '9090'):
        h.check(port in ports or f"'right': {port}" in text,
                f'port {port} neither in a rule of {zone}_input nor in a set it uses ({sorted(ports)[:20]})')
    # Rules scale with services: a handful of prologue/dispatch rules per base chain plus
    # the zone's rules and policy; nothing per address or per interface.
    h.check(3 <= len(wan_rules) <= 30, f'{len(wan_rules)} rules in {zone}_input')
    h.check(5 <= counts['rule'] <= 80, f'{counts["rule"]} rules in inet alopex')
    # Our interface is one element of the input dispatch map, our address one element of
    # the zone set.
    h.check(f.HOST_ADDR in f.zone_addr4(sb, zone),
            f'{f.HOST_ADDR} not in {zone}_addr4: {f.zone_addr4(sb, zone)}')
    dispatch = f.set_elements(sb, 'input_zones', kind='map') or []
    h.check(any(e.startswith(f'{f.HOST_IF} ') or e.startswith(f'"{f.HOST_IF}"') or f.HOST_IF in e
                for e in dispatch), f'{f.HOST_IF} not in map input_zones: {dispatch}')
    # Only our table was created.
    tables = sorted((t['family'], t['name']) for t in (o['table'] for o in items if 'table' in o))
    h.check_eq(tables, [('inet', 'alopex')], 'tables in the ruleset')


@tap.test('more addresses and interfaces in the zone add elements, not rules')
def _(sb):
    zone = sb.zone
    rules = len(f.objects(f.nft_j(sb, 'list', 'ruleset'), 'rule'))
    extra = [f'10.70.1.{i}' for i in range(1, 21)]
    subprocess.run(['ip', 'link', 'add', 'fwx0', 'type', 'veth', 'peer', 'name', 'fwx1'], check=True)
    try:
        for a in extra:
            subprocess.run(['ip', 'addr', 'add', f'{a}/24', 'dev', f.HOST_IF], check=True)
        subprocess.run(['ip', 'link', 'set', 'fwx0', 'up'], check=True)
        h.wait_until(lambda: set(extra) <= set(f.zone_addr4(sb, zone)), 10, 0.02,
                     f'the 20 addresses in {zone}_addr4')
        h.wait_until(lambda: any('fwx0' in e for e in f.set_elements(sb, 'input_zones', kind='map') or []),
                     10, 0.02, 'fwx0 in map input_zones')
        h.check_eq(len(f.objects(f.nft_j(sb, 'list', 'ruleset'), 'rule')), rules,
                   'rules after 20 more addresses and 2 more interfaces')
    finally:
        subprocess.run(['ip', 'link', 'del', 'fwx0'], check=False)
        for a in extra:
            subprocess.run(['ip', 'addr', 'del', f'{a}/24', 'dev', f.HOST_IF], check=False,
                           stderr=subprocess.DEVNULL)
    h.wait_until(lambda: not set(extra) & set(f.zone_addr4(sb, zone)), 10, 0.02,
                 f'the 20 addresses gone from {zone}_addr4')


@tap.test('counters: the kernel counts the traffic, GetCounters reports the same')
def _(sb):
    zone = sb.zone
    rule0, drops = f'r.{zone}.0', f'zd.{zone}.input'
    k_rule, k_drop = f.kernel_counter(sb, rule0), f.kernel_counter(sb, drops)
    h.check(f.connects(sb, f.HOST_ADDR, 22, f.ALLOWED_SRC), 'allowed connect')
    h.check(not f.connect(sb, f.HOST_ADDR, 2222, f.ALLOWED_SRC, 1.0).startswith('OK'), 'denied connect')
    k_rule2, k_drop2 = f.kernel_counter(sb, rule0), f.kernel_counter(sb, drops)
    h.check(k_rule2 > k_rule, f'{rule0}: {k_rule} -> {k_rule2} packets after an accepted SYN')
    h.check(k_drop2 > k_drop, f'{drops}: {k_drop} -> {k_drop2} packets after a dropped SYN')
    c = f.counters(sb)
    h.diag(f'GetCounters: {sorted(c.items())}')
    h.check_eq(c.get(('rule', f'{zone}/0'), (None,))[0], f.kernel_counter(sb, rule0),
               f'GetCounters rule {zone}/0 packets vs nft')
    h.check(c.get(('zone', zone), (0, 0, 0))[2] >= k_drop2,
            f'GetCounters zone {zone} drops {c.get(("zone", zone))} < {k_drop2} (nft {drops})')


@tap.test('the daemon is still running')
def _(sb):
    f.check_alive(sb)


h.main(tap, setup)
