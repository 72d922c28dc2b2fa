#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ovs-agentd's Agent (rtnetlink and OVSDB kept in step, without the daemon's D-Bus
API) against a real ovsdb-server and ovs-vswitchd with the userspace datapath, in the
sandbox's namespaces, driven by alopex-test-ovs-agent and checked with ovs-vsctl: links
that exist when it starts are attached (only those with the configured prefixes); a veth
created later is attached at once, with the ofport ovs-vsctl reports, and detached when it
goes; a port someone else plugged is never touched; 50 veths created at once are
attached in a few transactions; a restarted agent reconciles what changed while it was
away; while another writer keeps adding ports to the bridge, every veth is attached and
the other writer's ports stay (how many of the agent's transactions had to be built again
is reported, not forced); and a wait that fails for certain: a relay between the agent and
ovsdb-server holds the agent's transaction until a foreign ovs-vsctl add-port has
committed, so the server refuses the agent's guard, and the agent builds the change again
on the fresh copy, once, keeping the foreign port."""
import json
import os
import select
import socket
import subprocess
import threading
import time

import alopex_harness as h
from ovs_env import Driver, create_db, start_ovsdb, start_vswitchd, veth
from ovs_env import vsctl as ovs_vsctl

tap = h.Tap()
CTX = {}
BRIDGE = 'ovsbr0'


def vsctl(sb, *args):
    return ovs_vsctl(sb, CTX['dir'], *args)


def ports(sb):
    return set(vsctl(sb, 'list-ports', BRIDGE).split())


def start_agent(sb, db=None):
    return Driver(sb, 'ovs-agent', [sb.build_path('tests/integration/ovs-agentd/alopex-test-ovs-agent'),
                                    db or f'{CTX["dir"]}/db.sock', BRIDGE, '20'])


class HoldingRelay(threading.Thread):
    """One client's JSON-RPC stream relayed to ovsdb-server as it is, except that the
    first "transact" with a "wait" operation after arm() is held until `before(msg)`
    returned: what that does reaches the database first."""

    def __init__(self, path, upstream):
        super().__init__(daemon=True)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.upstream, self.before, self.held = upstream, None, []
        self.done = threading.Event()

    def arm(self, before):
        self.before = before

    def _messages(self, buf):
        """Complete JSON values at the start of buf, as (value, raw bytes); the rest."""
        out, dec, i = [], json.JSONDecoder(), 0
        text = buf.decode()
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            try:
                value, end = dec.raw_decode(text, i)
            except ValueError:
                return out, text[i:].encode()
            out.append((value, text[i:end].encode()))
            i = end

    def run(self):
        client, _ = self.listener.accept()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(self.upstream)
        pending = b''
        while True:
            ready, _, _ = select.select([client, server], [], [])
            if server in ready:
                data = server.recv(65536)
                if not data:
                    break
                client.sendall(data)
            if client in ready:
                data = client.recv(65536)
                if not data:
                    break
                msgs, pending = self._messages(pending + data)
                for value, raw in msgs:
                    ops = value.get('params', [None])[1:] if value.get('method') == 'transact' else []
                    if self.before and any(op.get('op') == 'wait' for op in ops):
                        before, self.before = self.before, None
                        self.held.append(value)
                        before(value)
                    server.sendall(raw)
        client.close()
        server.close()
        self.done.set()


def setup(sb):
    # Many veths on a userspace datapath: IPv6 autoconf multicast would flood every port.
    subprocess.run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
                   check=True)
    CTX['dir'] = create_db(sb)
    start_ovsdb(sb, CTX['dir'])
    vsctl(sb, 'init')
    vsctl(sb, 'add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev')
    start_vswitchd(sb, CTX['dir'])
    veth('veth101i0', 'p101')
    veth('tap102i0', 'p102')
    veth('eth-foo', 'pfoo')


@tap.test('links that exist at start are attached, only those with the prefixes; ofports as ovs-vsctl says')
def _(sb):
    a = CTX['agent'] = start_agent(sb)
    got = {a.expect('attached ', 20).split()[1] for _ in range(2)}
    h.check_eq(got, {'veth101i0', 'tap102i0'})
    a.expect('settled', 10)
    h.check_eq(ports(sb), {'veth101i0', 'tap102i0'})
    h.check_eq(vsctl(sb, 'get', 'Port', 'veth101i0', 'external_ids:alopex-vmid').strip(), '"101"')
    for name in ('veth101i0', 'tap102i0'):
        h.check(int(vsctl(sb, 'get', 'Interface', name, 'ofport')) >= 1, name)


@tap.test('a veth created later is attached at once and detached when it goes')
def _(sb):
    a = CTX['agent']
    t0 = time.monotonic()
    veth('veth103i0', 'p103')
    line = a.expect('attached veth103i0 ', 10)
    h.diag(f'veth created -> ofport confirmed: {1000 * (time.monotonic() - t0):.0f} ms (debounce 20 ms)')
    h.check_eq(vsctl(sb, 'get', 'Interface', 'veth103i0', 'ofport').strip(), line.split('ofport=')[1])
    subprocess.run(['ip', 'link', 'del', 'veth103i0'], check=True)
    a.expect('detached veth103i0', 10)
    h.check('veth103i0' not in ports(sb), 'ovs-vsctl list-ports')
    h.check_eq(vsctl(sb, '--columns=name', 'find', 'Interface', 'name=veth103i0').strip(), '', 'rows collected')


@tap.test('a port someone else plugged is never touched, even when its link goes')
def _(sb):
    a = CTX['agent']
    veth('tap900i0', 'p900')
    a.expect('attached tap900i0', 10)   # the agent's now; an admin's own port next
    veth('tap901i0', 'p901')
    a.expect('attached tap901i0', 10)
    vsctl(sb, 'del-port', BRIDGE, 'tap901i0', '--', 'add-port', BRIDGE, 'tap901i0')   # re-plugged by hand: not ours
    a.expect('settled', 10)
    a.take('settled')
    subprocess.run(['ip', 'link', 'del', 'tap901i0'], check=True)
    a.expect('settled', 10)   # the link event reconciled (the agent is busy for a debounce window first)
    h.check('tap901i0' in ports(sb), 'the admin\'s port stays')
    h.check_eq(a.take('detached tap901i0'), [])
    plan = a.ask('plan', 'plan ')
    h.check_eq(plan, 'plan attach= detach= elsewhere=')


@tap.test('50 veths at once are attached in a few transactions')
def _(sb):
    a = CTX['agent']
    before = int(a.ask('stats', 'stats ').split()[1].split('=')[1])
    t0 = time.monotonic()
    names = [f'veth{200 + i}i0' for i in range(50)]
    batch = ''.join(f'link add {n} type veth peer name q{n[4:7]}\nlink set {n} up\n' for n in names)
    subprocess.run(['ip', '-batch', '-'], input=batch, text=True, check=True)
    got = set()
    while len(got) < 50:
        got.add(a.expect('attached veth2', 30).split()[1])
    took = time.monotonic() - t0
    after = int(a.ask('stats', 'stats ').split()[1].split('=')[1])
    h.diag(f'50 veths attached and confirmed in {1000 * took:.0f} ms, {after - before} transaction(s)')
    h.check_eq(got, set(names))
    h.check(after - before <= 5, f'{after - before} transactions for 50 ports')
    h.check(set(names) <= ports(sb), 'ovs-vsctl lists them all')


@tap.test('a restarted agent reconciles what changed while it was away')
def _(sb):
    CTX['agent'].proc.stop()
    subprocess.run(['ip', 'link', 'del', 'veth101i0'], check=True)
    veth('veth104i0', 'p104')
    a = CTX['agent'] = start_agent(sb)
    a.expect('detached veth101i0', 20)
    a.expect('attached veth104i0', 20)
    a.expect('settled', 10)
    p = ports(sb)
    h.check('veth101i0' not in p and 'veth104i0' in p and 'tap102i0' in p, p)


@tap.test('while another writer keeps changing the bridge, every port is attached and the other\'s ports stay')
def _(sb):
    a = CTX['agent']
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            vsctl(sb, 'add-port', BRIDGE, f'other{i}', '--', 'set', 'interface', f'other{i}', 'type=internal')
            i += 1
    t = threading.Thread(target=churn)
    t.start()
    try:
        names = [f'veth{300 + i}i0' for i in range(20)]
        for n in names:
            veth(n, f'r{n[4:7]}')
        got = set()
        while len(got) < 20:
            got.add(a.expect('attached veth3', 30).split()[1])
    finally:
        stop.set()
        t.join()
    stats = a.ask('stats', 'stats ')
    h.diag(stats)
    h.check_eq(got, set(names))
    h.check(set(names) <= ports(sb), 'all of them')
    h.check(any(p.startswith('other') for p in ports(sb)), "the other writer's ports stay")



@tap.test('a transaction whose wait fails (a foreign writer got in first) is built again on the fresh copy, once')
def _(sb):
    CTX['agent'].proc.stop()
    relay = HoldingRelay(sb.path('relay.sock'), f'{CTX["dir"]}/db.sock')
    relay.start()
    a = start_agent(sb, sb.path('relay.sock'))
    a.expect('settled', 20)
    before = dict(kv.split('=') for kv in a.ask('stats', 'stats ').split()[1:])

    def foreign(msg):
        vsctl(sb, 'add-port', BRIDGE, 'foreign0', '--', 'set', 'interface', 'foreign0', 'type=internal')
    relay.arm(foreign)
    veth('veth400i0', 'p400')
    a.expect('attached veth400i0 ', 20)
    a.expect('settled', 10)
    after = dict(kv.split('=') for kv in a.ask('stats', 'stats ').split()[1:])
    h.check_eq(len(relay.held), 1, 'the relay held one guarded transaction')
    held_ports = [op for op in relay.held[0]['params'][1:] if op.get('op') == 'wait'][0]['rows'][0]['ports']
    foreign_uuid = vsctl(sb, 'get', 'Port', 'foreign0', '_uuid').strip()
    h.check(foreign_uuid not in json.dumps(held_ports), 'the held guard was built before the foreign port')
    h.check_eq(int(after['retries']) - int(before['retries']), 1, 'one retry')
    h.check_eq(int(after['failures']), int(before['failures']), 'no failure')
    p = ports(sb)
    h.check('veth400i0' in p and 'foreign0' in p, p)
    h.check_eq(vsctl(sb, 'get', 'Port', 'foreign0', 'external_ids').strip(), '{}', 'the foreign port untouched')
    h.check_eq(vsctl(sb, 'get', 'Port', 'veth400i0', 'external_ids:alopex-owner').strip(), 'ovs-agentd')
    a.proc.stop()
    relay.done.wait(10)


h.main(tap, setup)
