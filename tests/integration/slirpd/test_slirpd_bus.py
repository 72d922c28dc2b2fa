#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-slirpd's org.alopex.Slirp1.Line (issue 11), on the private bus with polkitd and
the real broker (its ledger): an instance (--instance demo, on a pty) run as alopex-slirp
owns org.alopex.Slirp1.demo; its live introspection equals ipc/org.alopex.Slirp1.xml; the
properties follow the link (phase, addresses, LCP's options, port maps, counters);
ListConnections shows a connection the peer holds open through a port map, with its
target and byte counts; CloseConnection resets it both ways (the peer's socket and the
host service see the reset), after polkit (an unprivileged caller is NotAuthorized,
an unknown id NoSuchId); Reload adds a port map live and names what waits for a
restart, an invalid file is refused with file:line:col and nothing changes; both land in
the audit ledger. Capture, by `alopexctl slirp capture FILE --for 6s` while the peer dials
again, writes pcap that tshark reads as PPP (LCP and IPCP negotiating, the peer's TCP
SYN); its arguments are checked (seconds, an fd not open for writing), a second capture
is Busy, an unprivileged caller NotAuthorized, and it lands in the ledger. A port map with two
backends, one of them down, fails over to the other and then skips the dead one
(Backends, tcp-failovers). A port over its
new-connection rate limit ([limits] new_per_port = 3) refuses the peer at once for the
lockout (3 s) while another port still takes connections, is counted and lands in the
ledger (slirp.Lockout), and takes connections again after."""
import json
import os
import shutil
import socket
import subprocess
import time

import alopex_dbus as bus
import alopex_harness as h
from slirpd_env import PeerNamespace, log_of, serve

tap = h.Tap()
CTX = {}
SERVICE, PATH, IFACE = 'org.alopex.Slirp1.demo', '/org/alopex/Slirp1/demo', 'org.alopex.Slirp1.Line'
E = 'org.alopex.Error.'
BROKER = '[record]\ncallers = ["alopex-slirp"]\n'
PORTS = '[ports]\n"10.0.0.1:7" = "127.0.0.1:7000"\n'
LIMITS = '[limits]\nnew_per_port = 3\nlockout = 3\n'
BACKENDS = '"10.0.0.1:9" = ["127.0.0.1:7999", "127.0.0.1:7000"]\n'
POLICY = '[backends]\nfailures = 2\nskip = 60\n'
CONFIG = PORTS + BACKENDS + LIMITS + POLICY


def prop(sb, name, as_user=None):
    return sb.get_property(SERVICE, PATH, IFACE, name, as_user=as_user)


def call(sb, method, sig='', *args, as_user=None):
    return sb.call(SERVICE, PATH, IFACE, method, sig, *args, as_user=as_user)


def send(sb, method, *args, user=None):
    """dbus-send (no interactive authorization): (ok, error name, text)."""
    return bus.dbus_send(sb, SERVICE, PATH, IFACE, method, *args, user=user)


def records(sb):
    try:
        with open(os.path.join(sb.state_dir, 'ledger.jsonl'), encoding='utf-8') as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def wait_record(sb, action):
    h.wait_until(lambda: any(r['action'] == action for r in records(sb)), 15, 0.05, f'a {action} record')
    return [r for r in records(sb) if r['action'] == action][-1]


def host_service(sb):
    """127.0.0.1:7000: holds each connection, says hello, and notes how it ended."""
    CTX['ends'] = []

    def one(c):
        c.sendall(b'hello\n')
        try:
            while c.recv(4096):
                pass
            CTX['ends'].append('eof')
        except ConnectionResetError:
            CTX['ends'].append('reset')
        c.close()
    serve(sb, socket.create_server(('127.0.0.1', 7000)), one)


def setup(sb):
    sb.start_bus()
    if not os.path.exists(sb.build_path('daemons/slirpd/alopex-slirpd')):
        raise h.Skip('alopex-slirpd is not built')
    sb.start_polkit()
    sb.start_broker(BROKER)
    host_service(sb)
    os.makedirs(os.path.join(sb.config_dir, 'slirp'), exist_ok=True)
    CTX['config'] = os.path.join(sb.config_dir, 'slirp', 'demo.toml')
    with open(CTX['config'], 'w') as f:
        f.write(CONFIG)
    ns = sb.notify_socket('slirpd-bus')
    CTX['slirpd'] = sb.spawn('alopex-slirpd', [sb.build_path('daemons/slirpd/alopex-slirpd'), '--instance', 'demo',
                                               '--pty'], as_user='alopex-slirp', env=sb.env({'NOTIFY_SOCKET': ns.path}))
    ns.start_draining()
    ns.wait_for('READY', '1', timeout=20, proc=CTX['slirpd'])
    h.check(sb.name_has_owner(SERVICE), 'the name is owned at READY=1')
    pty = [l.split(': ', 1)[1] for l in log_of(CTX['slirpd']).splitlines() if l.startswith('pty: ')][0]
    CTX['pty'] = pty
    CTX['ns'] = PeerNamespace(sb, 'ppp-bus')
    CTX['peer'] = CTX['ns'].spawn('ppp-peer', sb.build_path('tests/harness/alopex-test-ppp-peer'), pty, 'ppp0')
    h.wait_until(lambda: 'up ' in log_of(CTX['peer']), 20, 0.05, 'the peer reports IPCP up')


@tap.test('live introspection equals ipc/org.alopex.Slirp1.xml')
def _(sb):
    bus.check_introspection(sb, SERVICE, PATH, IFACE, 'ipc/org.alopex.Slirp1.xml')


@tap.test('properties: the instance, the line, the link, LCP options, port maps, counters')
def _(sb):
    h.check_eq(prop(sb, 'Instance'), 'demo')
    h.check_eq(prop(sb, 'Device'), f"pty {CTX['pty']}")
    h.check_eq(prop(sb, 'LineOpen'), True)
    h.wait_until(lambda: prop(sb, 'Phase') == 'opened', 10, 0.05, 'Phase opened')
    h.check_eq(prop(sb, 'LocalAddress'), '10.0.0.1')
    h.check_eq(prop(sb, 'PeerAddress'), '10.0.0.2')
    opts = prop(sb, 'Options')
    h.check_eq((opts['send-mru'], opts['receive-accm'], opts['pfc']), ('1500', '00000000', 'both'), opts)
    h.check_eq(sorted(prop(sb, 'PortMaps')), [['tcp', '10.0.0.1', 7, '127.0.0.1:7000'],
                                              ['tcp', '10.0.0.1', 9, '127.0.0.1:7999, 127.0.0.1:7000']])
    c = prop(sb, 'Counters')
    h.check(c['frames-in'] > 0 and c['frames-out'] > 0 and c['fcs-errors'] == 0, c)
    h.check_eq(prop(sb, 'Connections'), 0)
    rc, data, err = call(sb, 'Version', as_user='alopex-test')
    h.check_eq(rc, 0, err)


HOLD = """
import socket, sys, time
s = socket.create_connection(('10.0.0.1', 7), timeout=10)
print(s.recv(100).decode().strip(), flush=True)
s.sendall(b'x' * 1000)
try:
    while True:
        b = s.recv(100)
        if not b:
            print('eof', flush=True)
            break
except ConnectionResetError:
    print('reset', flush=True)
"""


def alopexctl(sb, *args, user='alopex-test'):
    return sb.run([sb.build_path('tools/alopexctl/alopexctl'), *args], as_user=user)


@tap.test('alopexctl slirp status: the instance, its line, phase and peer; all of it as JSON')
def _(sb):
    rc, out, err = alopexctl(sb, 'slirp', 'status')
    h.check_eq(rc, 0, err)
    row = [l.split() for l in out.splitlines() if l.startswith('demo')]
    h.check_eq(len(row), 1, out)
    h.check_eq(row[0], ['demo', 'pty', CTX['pty'], 'open', 'opened', '10.0.0.2', '0'], out)
    rc, out, err = alopexctl(sb, '--json', 'slirp', 'status')
    h.check_eq(rc, 0, err)
    inst = json.loads(out)['instances']
    h.check_eq([(i['instance'], i['service'], i['phase'], i['peer_address']) for i in inst],
               [('demo', SERVICE, 'opened', '10.0.0.2')], out)
    h.check(inst[0]['counters']['frames-in'] > 0 and inst[0]['port_maps'][0]['port'] == 7, out)
    rc, out, err = alopexctl(sb, 'slirp', 'status', 'nosuch')
    h.check(rc != 0 and 'org.alopex.Slirp1.nosuch' in err, err)
    # alopexctl status lists the instance under alopex-slirpd, with its version.
    rc, out, err = alopexctl(sb, '--json', 'status')
    h.check_eq(rc, 0, err)
    rows = [d for d in json.loads(out)['daemons'] if d['daemon'] == 'alopex-slirpd']
    h.check_eq([(d['service'], d['running'], bool(d['version'])) for d in rows], [(SERVICE, True, True)], out)


@tap.test('a port map with two backends, one down: failover, then the dead one skipped (Backends, counters)')
def _(sb):
    code = "import socket; print(socket.create_connection(('10.0.0.1', 9), 5).recv(10))"
    for _ in range(3):   # the port's rate limit allows 3 in its window
        r = CTX['ns'].run('/usr/bin/python3', '-c', code)
        h.check("b'hello\\n'" in r.stdout, r.stdout + r.stderr)
    backends = {b[2]: b for b in prop(sb, 'Backends') if b[1] == 9}
    h.diag(str(backends))
    dead, live = backends['127.0.0.1:7999'], backends['127.0.0.1:7000']
    h.check_eq((dead[3], dead[4], dead[5], dead[6]), ('skipped', 2, 0, 2), dead)
    h.check_eq((live[3], live[5], live[6]), ('up', 3, 0), live)
    h.check_eq(prop(sb, 'Counters')['tcp-failovers'], 2)
    h.wait_until(lambda: len(CTX['ends']) == 3, 10, 0.05, f'the host service saw 3 connections end: {CTX["ends"]}')
    CTX['ends'].clear()


@tap.test('ListConnections and CloseConnection: polkit first, NoSuchId, a reset both ways, a ledger record')
def _(sb):
    client = CTX['ns'].spawn('holder', '/usr/bin/python3', '-c', HOLD)
    h.wait_until(lambda: 'hello' in log_of(client), 10, 0.05, 'the peer connected through the map')
    def listed():
        rc, data, err = call(sb, 'ListConnections', as_user='alopex-test')
        return data[0] if rc == 0 and data and data[0] and data[0][0][7] >= 1000 else None
    h.wait_until(listed, 10, 0.05, 'the connection listed with its bytes')
    conns = listed()
    h.check_eq(len(conns), 1, conns)
    cid, peer, pport, dst, dport, target, state, bin_, bout, idle, queued = conns[0]
    h.check_eq(queued, 0, 'an unpaced line queues nothing')
    h.check_eq((peer, dst, dport, target, state), ('10.0.0.2', '10.0.0.1', 7, '127.0.0.1:7000', 'established'))
    h.check(bin_ == 1000 and bout == 6, f'bytes {bin_} {bout}')
    h.check_eq(prop(sb, 'Connections'), 1)
    # alopexctl reads the same, for people and as JSON.
    rc, out, err = alopexctl(sb, 'slirp', 'connections')
    h.check_eq(rc, 0, err)
    row = [l.split() for l in out.splitlines() if l.startswith('demo')]
    h.check_eq([r[2:6] for r in row], [[f'10.0.0.2:{pport}', '10.0.0.1:7', '127.0.0.1:7000', 'established']], out)
    rc, out, err = alopexctl(sb, '--json', 'slirp', 'connections', 'demo')
    h.check_eq(rc, 0, err)
    j = json.loads(out)['connections']
    h.check_eq([(c['instance'], c['id'], c['bytes_from_peer']) for c in j], [('demo', cid, 1000)], out)
    bus.expect_error(send(sb, 'CloseConnection', f'uint64:{cid}', user='alopex-test'), E + 'NotAuthorized')
    bus.expect_error(send(sb, 'CloseConnection', f'uint64:{cid + 1000}'), E + 'NoSuchId', 'id:')
    h.check('reset' not in log_of(client), 'still open after the refusals')
    n = len(records(sb))
    rc, _, err = call(sb, 'CloseConnection', 't', cid)
    h.check_eq(rc, 0, err)
    h.wait_until(lambda: 'reset' in log_of(client), 10, 0.05, 'the peer sees a reset')
    h.wait_until(lambda: CTX['ends'] == ['reset'], 10, 0.05, f'the host service sees a reset: {CTX["ends"]}')
    rec = wait_record(sb, 'slirp.CloseConnection')
    h.check_eq(rec['actor'], 'alopex-slirp')
    d = json.loads(rec['details'])
    h.check_eq((d['uid'], d['args']), (0, {'id': cid}), d)
    h.check(len(records(sb)) > n)


@tap.test('Reload: a port map added live, [ppp] waits for a restart, an invalid file changes nothing')
def _(sb):
    with open(CTX['config'], 'w') as f:
        f.write(PORTS + '"10.0.0.1:8" = "127.0.0.1:7000"\n' + LIMITS + POLICY + '[ppp]\nmru = 1400\n')
    rc, data, err = call(sb, 'Reload')
    h.check_eq(rc, 0, err)
    h.check_eq(data, [['ppp']])
    h.check_eq(sorted(m[2] for m in prop(sb, 'PortMaps')), [7, 8])
    r = CTX['ns'].run('/usr/bin/python3', '-c', "import socket; print(socket.create_connection(('10.0.0.1', 8), 5).recv(10))")
    h.check("b'hello\\n'" in r.stdout, r.stdout + r.stderr)
    rec = wait_record(sb, 'slirp.Reload')
    h.check_eq(json.loads(rec['details'])['result'], ['ppp'])
    with open(CTX['config'], 'w') as f:
        f.write('[ports]\n"10.0.0.1:9" = "nowhere"\n')
    bus.expect_error(send(sb, 'Reload'), E + 'InvalidArgument', 'demo.toml:2:16:', "'nowhere'")
    h.check_eq(sorted(m[2] for m in prop(sb, 'PortMaps')), [7, 8], 'unchanged')
    bus.expect_error(send(sb, 'Reload', user='alopex-test'), E + 'NotAuthorized')


@tap.test('Capture: pcap of the peer dialling again, read by tshark; arguments, Busy, polkit, the ledger')
def _(sb):
    if not shutil.which('tshark'):
        raise h.Skip('tshark not installed (Debian package tshark)')
    def client(*args):
        # (busctl cannot pass an fd: the test client's own, 1 its output, 0 its input)
        with open(sb.path('client-in'), 'w') as f:
            f.write('')
        with open(sb.path('client-in')) as stdin:
            r = subprocess.run([sb.build_path('tests/harness/alopex-test-client'), SERVICE, PATH, IFACE, 'Capture',
                                *args], capture_output=True, text=True, env=sb.env(), stdin=stdin, timeout=30)
        return r.stdout + r.stderr
    out = client('h:1', 'u:0')
    h.check('ERROR org.alopex.Error.InvalidArgument: seconds' in out, out)
    out = client('h:0', 'u:5')   # its standard input: read-only
    h.check('ERROR org.alopex.Error.InvalidArgument: fd' in out, out)
    rc, out, err = alopexctl(sb, 'slirp', 'capture', '-', '--for', '2s')   # to its standard output
    h.check(rc != 0 and 'NotAuthorized' in err, f'{rc} {out} {err}')
    cap = sb.path('link.pcap')
    ctl = subprocess.Popen([sb.build_path('tools/alopexctl/alopexctl'), '--json', 'slirp', 'capture', 'demo', cap,
                            '--for', '6s'], env=sb.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    h.wait_until(lambda: 'capture started' in log_of(CTX['slirpd']), 10, 0.05, 'slirpd starts the capture')
    out = client('h:1', 'u:5')
    h.check('ERROR org.alopex.Error.Busy' in out, out)
    # The peer goes and dials again: LCP and IPCP negotiate anew, then a connection.
    CTX['peer'].stop()
    peer = CTX['ns'].spawn('ppp-peer-again', sb.build_path('tests/harness/alopex-test-ppp-peer'), CTX['pty'], 'ppp0')
    h.wait_until(lambda: 'up ' in log_of(peer), 20, 0.05, 'the peer is up again')
    r = CTX['ns'].run('/usr/bin/python3', '-c', "import socket; print(socket.create_connection(('10.0.0.1', 7), 5).recv(10))")
    h.check("b'hello\\n'" in r.stdout, r.stdout + r.stderr)
    out, err = ctl.communicate(timeout=30)
    h.check_eq(ctl.returncode, 0, err)
    h.check_eq(json.loads(out)['capture'][0]['bytes'], os.path.getsize(cap))
    t = subprocess.run(['tshark', '-r', cap, '-T', 'fields', '-e', 'frame.p2p_dir', '-e', '_ws.col.Protocol',
                        '-e', '_ws.col.Info'], capture_output=True, text=True, env=sb.env(), timeout=60)
    h.check_eq(t.returncode, 0, t.stderr)
    rows = [line.split('\t') for line in t.stdout.splitlines()]
    h.diag(' | '.join(' '.join(r) for r in rows[:20]))
    def seen(protocol, info):
        return any(r[1] == protocol and info in r[2] for r in rows)
    h.check(seen('PPP LCP', 'Configuration Request') and seen('PPP LCP', 'Configuration Ack'), t.stdout[:2000])
    h.check(seen('PPP IPCP', 'Configuration Request') and seen('PPP IPCP', 'Configuration Nak') and
            seen('PPP IPCP', 'Configuration Ack'), t.stdout[:2000])
    # Wireshark's direction: 0 sent (by slirpd: the direction octet 1), 1 received. The
    # peer's SYN came in; slirpd's SYN-ACK went out.
    h.check(any(r[0] == '1' and 'TCP' in r[1] and '→ 7 [SYN]' in r[2] for r in rows), t.stdout[:3000])
    h.check(any(r[0] == '0' and 'TCP' in r[1] and '7 →' in r[2] and '[SYN, ACK]' in r[2] for r in rows),
            t.stdout[:3000])
    rec = wait_record(sb, 'slirp.Capture')
    h.check_eq(json.loads(rec['details'])['uid'], 0, rec)
    h.wait_until(lambda: 'capture ended' in log_of(CTX['slirpd']), 10, 0.05, 'slirpd ends the capture')


CONNECT = """
import socket, sys
try:
    socket.create_connection(('10.0.0.1', int(sys.argv[1])), 5).close()
    print('connected')
except ConnectionRefusedError:
    print('refused')
"""


def connect(port):
    return CTX['ns'].run('/usr/bin/python3', '-c', CONNECT, str(port)).stdout.strip()


@tap.test('a port over its new-connection rate limit is locked out, counted and in the ledger; others are not')
def _(sb):
    # Port 8 (the Reload test's) has had a connection in this window: the limit is 3.
    results = [connect(8) for _ in range(4)]
    h.check('refused' in results and results[0] == 'connected', results)
    h.check_eq(connect(8), 'refused', 'still locked out')
    h.check_eq(connect(7), 'connected', 'another port')
    c = prop(sb, 'Counters')
    h.check(c['lockouts'] == 1 and c['tcp-rate-limited'] >= 2, c)
    rec = wait_record(sb, 'slirp.Lockout')
    d = json.loads(rec['details'])
    h.check_eq((d['limit'], d['peer'], d['port']), ('port', '10.0.0.2', 8), d)
    h.check('over its new-connection rate limit' in log_of(CTX['slirpd']), log_of(CTX['slirpd'])[-500:])
    time.sleep(3.2)
    h.check_eq(connect(8), 'connected', 'after the lockout')


h.main(tap, setup)
