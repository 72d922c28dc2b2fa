#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ovs-agentd's OVSDB client (issue 13, first step) against a real ovsdb-server (Debian's
3.1.0, its own database in the sandbox, a unix socket), driven by
alopex-test-ovsdb-client and checked with ovs-vsctl: the client syncs the initial rows,
sees ovs-vsctl's add-br as row inserts at once, adds a port with a guarded transaction
(ovs-vsctl then lists it with the agent's external_ids), has a transaction whose wait is
stale refused (EAGAIN) with nothing written, detaches its own port but not one that
ovs-vsctl plugged, follows an ovsdb-server restart (lost, then a
full resync), and gives up on a stopped (SIGSTOP) ovsdb-server through its keepalive while
its event loop keeps answering, then resyncs when the server runs again. With
ovs-vswitchd (the userspace datapath, in the sandbox's namespaces) an attached veth is
confirmed once cur_cfg caught up, with the ofport ovs-vsctl reports, and a device that
does not exist fails with ovs-vswitchd's own error."""
import os
import signal
import time

import alopex_harness as h
from ovs_env import Driver, create_db, start_ovsdb, start_vswitchd, veth
from ovs_env import vsctl as ovs_vsctl

tap = h.Tap()
CTX = {}


def start_server(sb):
    return start_ovsdb(sb, CTX['dir'])


def vsctl(sb, *args):
    return ovs_vsctl(sb, CTX['dir'], *args)


def setup(sb):
    CTX['dir'] = create_db(sb)
    CTX['server'] = start_server(sb)
    vsctl(sb, 'init')
    CTX['client'] = Driver(sb, 'ovsdb-client', [sb.build_path('tests/integration/ovs-agentd/alopex-test-ovsdb-client'),
                                                f'{CTX["dir"]}/db.sock', '300'])


@tap.test('the client syncs, then sees ovs-vsctl add-br as row inserts at once')
def _(sb):
    c = CTX['client']
    h.check_eq(c.expect('synced '), 'synced bridges=0 ports=0')
    t0 = time.monotonic()
    vsctl(sb, 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev')
    c.expect('changed Bridge insert br0')
    c.expect('changed Port insert br0')
    h.diag(f'add-br seen after {1000 * (time.monotonic() - t0):.1f} ms (ovs-vsctl included)')


@tap.test('a guarded transaction adds a port (ovs-vsctl lists it, with the agent\'s ids); a stale wait is refused, '
          'nothing written; only the agent\'s own ports are detached')
def _(sb):
    c = CTX['client']
    c.send('add-port br0 veth105i0')
    c.expect('changed Port insert veth105i0')   # the update2 comes before the transaction's reply
    h.check_eq(c.expect('result '), 'result ok')
    h.check('veth105i0' in vsctl(sb, 'list-ports', 'br0').split(), 'ovs-vsctl list-ports br0')
    ids = {k: vsctl(sb, 'get', 'Port', 'veth105i0', f'external_ids:{k}').strip().strip('"')
           for k in ('alopex-owner', 'alopex-vmid', 'alopex-container')}
    h.check_eq(ids, {'alopex-owner': 'ovs-agentd', 'alopex-vmid': '105', 'alopex-container': 'test-container'})
    h.check_eq(vsctl(sb, 'get', 'Open_vSwitch', '.', 'next_cfg').strip(), '1', 'next_cfg bumped')
    c.send('stale-add-port br0 veth106i0')
    line = c.expect('result ')
    h.check(line.startswith('result error 11 operation 1: timed out'), line)
    h.check('veth106i0' not in vsctl(sb, 'list-ports', 'br0').split(), 'nothing written')
    c.send('add-port nobridge veth107i0')
    h.check_eq(c.expect('result '), 'result error 2 no bridge nobridge')
    # A port someone else plugged is left alone; the agent's own goes, its rows with it.
    vsctl(sb, 'add-port', 'br0', 'tap300i0')
    c.expect('changed Port insert tap300i0')
    c.send('del-port br0 tap300i0')
    h.check_eq(c.expect('result '), "result error 1 tap300i0 is not ovs-agentd's port (no alopex-owner=ovs-agentd): "
               'left alone')
    c.send('add-port br0 veth108i0')
    h.check_eq(c.expect('result '), 'result ok')
    c.send('del-port br0 veth108i0')
    c.expect('changed Port delete veth108i0')
    h.check_eq(c.expect('result '), 'result ok')
    h.check_eq(sorted(vsctl(sb, 'list-ports', 'br0').split()), ['tap300i0', 'veth105i0'])
    h.check_eq(vsctl(sb, '--columns=name', 'find', 'Interface', 'name=veth108i0').strip(), '',
               'the Interface row was collected with its Port')


@tap.test('an ovsdb-server restart: lost, then a full resync of what the database holds')
def _(sb):
    c = CTX['client']
    CTX['server'].popen.terminate()
    CTX['server'].popen.wait(10)
    line = c.expect('lost ')
    h.check('closed the connection' in line or 'recv' in line, line)
    c.send('add-port br0 veth110i0')
    h.check(c.expect('result ').startswith('result error 107 '), 'ENOTCONN while the server is away')
    CTX['server'] = start_server(sb)
    h.check_eq(c.expect('synced ', 15), 'synced bridges=1 ports=3')


@tap.test('a stopped ovsdb-server: the keepalive gives up on it while the loop keeps answering; resync after')
def _(sb):
    c = CTX['client']
    pid = CTX['server'].popen.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        c.send('add-port br0 veth109i0')   # written, never answered
        c.send('ping')
        c.expect('pong', 2)
        # What waited is completed (ECONNRESET), then the loss is reported.
        line = c.expect('result ', 5)
        h.check(line.startswith('result error 104 the OVSDB session ended: ovsdb-server did not answer'), line)
        h.check_eq(c.expect('lost ', 2), 'lost ovsdb-server did not answer for 0.6 s')
        c.send('ping')
        c.expect('pong', 2)
    finally:
        os.kill(pid, signal.SIGCONT)
    line = c.expect('synced ', 15)
    # Whether the stopped server still ran the transaction it had queued is its business;
    # the resynced copy holds what the database holds (list-ports leaves out br0's own port).
    ports = vsctl(sb, 'list-ports', 'br0').split()
    h.check_eq(line, f'synced bridges=1 ports={len(ports) + 1}', f'ovs-vsctl: {ports}')


@tap.test('with ovs-vswitchd (userspace datapath): an attached veth is confirmed with the ofport ovs-vsctl reports; '
          'a device that does not exist fails with ovs-vswitchd\'s error')
def _(sb):
    start_vswitchd(sb, CTX['dir'])
    veth('veth111i0', 'peer111')
    c = CTX['client']
    t0 = time.monotonic()
    c.send('attach-wait br0 veth111i0')
    line = c.expect('confirmed veth111i0 ', 20)
    h.diag(f'attached and confirmed in {1000 * (time.monotonic() - t0):.0f} ms (the first ovs-vswitchd run)')
    ofport = line.split('ofport=')[1]
    h.check_eq(vsctl(sb, 'get', 'Interface', 'veth111i0', 'ofport').strip(), ofport, 'ovs-vsctl agrees')
    h.check(int(ofport) >= 1, line)
    c.send('attach-wait br0 nosuch0')
    line = c.expect('failed nosuch0 ', 20)
    h.check('could not open network device nosuch0' in line, line)
    h.check_eq(vsctl(sb, 'get', 'Interface', 'nosuch0', 'ofport').strip(), '-1')


h.main(tap, setup)
