# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared setup of the fwd policy tests: alopex-fwd on the sandbox's private bus (with
polkitd and sd_notify), a peer network namespace across a veth, real TCP listeners and
clients, a raw-socket ping, and independent views of the kernel (`nft -j`) and of the bus
(busctl for values, dbus-send for error names: busctl prints only error messages).

Topology (the test's own namespace is the firewalled host):

    host ns:  fw0 10.70.0.1/24        <-veth->   peer ns: pr0 10.70.0.10/24 (in management)
              lo  10.99.0.1/32 (a local address      10.70.0.200/24 (outside management)
                  outside every zone set)             route 10.99.0.0/24 via 10.70.0.1
"""
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time

import alopex_dbus as bus
import alopex_harness as h
from alopex_dbus import expect_error, expect_ok  # noqa: F401 (re-exported)
from alopex_kernel import (elem_text, nft, nft_j, nft_signature, objects,  # noqa: F401 (re-exported)
                           strip_volatile)
from alopex_peer import in_ns, netns_holder

SERVICE = 'org.alopex.Firewall1'
ROOT = '/org/alopex/Firewall1'
IFACE = 'org.alopex.Firewall1'
E = 'org.alopex.Error.'
PY = '/usr/bin/python3'
FWD = 'daemons/fwd/alopex-fwd'

HOST_IF, PEER_IF = 'fw0', 'pr0'
HOST_ADDR = '10.70.0.1'
ALLOWED_SRC = '10.70.0.10'       # inside MANAGEMENT
DENIED_SRC = '10.70.0.200'       # outside MANAGEMENT
MANAGEMENT = '10.70.0.0/28'
LO_ADDR = '10.99.0.1'            # local, reached over fw0, in no zone set

# The shipped default policy's shape (issue 4), with management = the peer's allowed
# subnet and the zone on our veth. `extra` is appended (more [[zones.wan.rules]]).
POLICY = """\
# SPDX-License-Identifier: GPL-2.0-or-later
[sets]
management = ["{management}", "2001:db8:70::/64"]

[zones.wan]
interfaces = ["{iface}"]
input = "drop"
forward = "drop"

[[zones.wan.rules]]
proto = "tcp"
dport = [22, 9090]
saddr = "@management"
action = "accept"
comment = "management console"

[[zones.wan.rules]]
proto = "icmp"
icmp_type = ["echo-request"]
action = "accept"

[[zones.wan.rules]]
proto = "icmpv6"
icmp_type = ["echo-request"]
action = "accept"
{extra}"""

SELF_8080 = """
[[zones.wan.rules]]
proto = "tcp"
dport = [8080]
daddr = "@self"
saddr = "@management"
action = "accept"
comment = "service on the zone's own addresses"
"""

def policy(extra='', management=MANAGEMENT, iface=HOST_IF):
    return POLICY.format(extra=extra, management=management, iface=iface)


def shipped_policy(sb, management=MANAGEMENT):
    """units/examples/firewall.toml (the shipped default) with its management set narrowed
    to the peer's allowed subnet, as its comments tell an admin to do; (text, zone)."""
    path = sb.source_path('units/examples/firewall.toml')
    if not os.path.exists(path):
        raise h.Skip('units/examples/firewall.toml is missing')   # a failure under CI=true
    with open(path) as f:
        text = f.read()
    text, n = re.subn(r'^management = \[.*\]$', f'management = ["{management}"]', text, flags=re.M)
    h.check_eq(n, 1, 'management lines in the shipped firewall.toml')
    zone = re.search(r'^default_zone = "([^"]+)"', text, re.M)
    h.check(zone, 'default_zone in the shipped firewall.toml')
    return text, zone.group(1)


def write_config(sb, text):
    path = os.path.join(sb.config_dir, 'firewall.toml')
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)
    return path


# ---- the daemon ----------------------------------------------------------------------
def require_fwd(sb):
    if not os.path.exists(sb.build_path(FWD)):
        raise h.Skip(f'{FWD} is not built')   # a failure under CI=true


def start_bus(sb):
    """The private bus (policy/dbus/org.alopex.Firewall1.conf lets root own the name) and
    polkitd (every mutating method asks it)."""
    sb.start_bus()
    sb.start_polkit()


def start_fwd(sb, timeout=30):
    """(Re)starts alopex-fwd as root; waits for READY=1 and its bus name."""
    require_fwd(sb)
    sb.fwd_starts = getattr(sb, 'fwd_starts', 0) + 1
    name = 'alopex-fwd' if sb.fwd_starts == 1 else f'alopex-fwd-{sb.fwd_starts}'
    sb.fwd = sb.start_daemon(FWD, name=name, wait_name=SERVICE, notify=True, timeout=timeout,
                             env=sb.env({'ALOPEX_LOG_LEVEL': 'debug'}), watchdog_usec=5000000)
    return sb.fwd


def kill9(sb):
    sb.fwd.popen.send_signal(signal.SIGKILL)
    sb.fwd.popen.wait()
    h.wait_until(lambda: not sb.name_has_owner(SERVICE), 10, 0.02, f'{SERVICE} released')


def stop_fwd(sb):
    rc = sb.fwd.stop(timeout=10)
    h.wait_until(lambda: not sb.name_has_owner(SERVICE), 10, 0.02, f'{SERVICE} released')
    return rc


def check_alive(sb):
    h.check(sb.fwd.alive(), f'alopex-fwd exited ({sb.fwd.popen.returncode}):\n{sb.fwd.log()}')


def setup(sb, config_text=None, peer=True, before_start=None):
    """The usual world: bus + polkit, the peer (unless peer=False), firewall.toml, fwd."""
    require_fwd(sb)
    start_bus(sb)
    if peer:
        make_peer(sb)
    write_config(sb, config_text if config_text is not None else policy())
    if before_start:
        before_start(sb)
    start_fwd(sb)


# ---- D-Bus ---------------------------------------------------------------------------
def prop(sb, name):
    return sb.get_property(SERVICE, ROOT, IFACE, name)


def dbus_send(sb, method, *args, user=None, timeout=60):
    """Calls a Firewall1 method with dbus-send; args are typed values ('string:x',
    'uint32:2', 'uint64:7', 'boolean:true'). Returns (ok, error name or '', text)."""
    return bus.dbus_send(sb, SERVICE, ROOT, IFACE, method, *args, user=user, timeout=timeout)


def add_rule(sb, spec, expires_s, comment):
    text = expect_ok(dbus_send(sb, 'AddRule', f'string:{spec}', f'uint32:{expires_s}',
                               f'string:{comment}'), f'AddRule {spec!r}')
    m = re.search(r'uint64 (\d+)', text)
    h.check(m, f'AddRule reply without an id: {text!r}')
    return int(m.group(1))


def reload(sb):
    return dbus_send(sb, 'Reload')


def panic(sb, on):
    return dbus_send(sb, 'Panic', f'boolean:{"true" if on else "false"}')


def runtime_rules(sb):
    """ListRuntimeRules: [(id, zone, spec, comment, expires_us, where)]."""
    rc, data, err = sb.call(SERVICE, ROOT, IFACE, 'ListRuntimeRules')
    h.check_eq(rc, 0, f'ListRuntimeRules: {err}')
    return [tuple(r) for r in data[0]]


def counters(sb):
    """GetCounters: {(kind, name): (packets, bytes, drops)}."""
    rc, data, err = sb.call(SERVICE, ROOT, IFACE, 'GetCounters')
    h.check_eq(rc, 0, f'GetCounters: {err}')
    return {(k, n): (p, b, d) for k, n, p, b, d in data[0]}


def kernel_counter(sb, name):
    """Packets of a named counter of inet alopex, as nft reads it."""
    for o in nft_j(sb, 'list', 'counter', 'inet', 'alopex', name):
        if 'counter' in o:
            return o['counter']['packets']
    raise AssertionError(f'no counter {name} in inet alopex')


def latency_histogram(sb):
    """LatencyHistogram as [(upper bound us, count)]."""
    return [tuple(b) for b in prop(sb, 'LatencyHistogram')]


def histogram_text(hist):
    """'<=B: N' for the non-empty buckets, and an approximate p50/p99 (bucket bounds)."""
    total = sum(c for _, c in hist)
    if not total:
        return 'empty'
    parts, acc, p50, p99 = [], 0, None, None
    for bound, c in hist:
        acc += c
        if c:
            parts.append(f'<={"inf" if bound >= 2**63 else bound}us: {c}')
        if p50 is None and acc >= 0.5 * total:
            p50 = bound
        if p99 is None and acc >= 0.99 * total:
            p99 = bound
    return f'{total} events; p50 <= {p50} us, p99 <= {p99} us; ' + ', '.join(parts)


# ---- the kernel's view: nft -j (alopex_kernel) ---------------------------------------------
def set_elements(sb, name, table='alopex', family='inet', kind='set'):
    """Elements of a set (or map) as strings; None when the set does not exist."""
    out = nft_j(sb, 'list', kind, family, table, name, check=False)
    if out is None:
        return None
    for o in out:
        if kind in o:
            return sorted(elem_text(e) for e in o[kind].get('elem', []))
    return None


def zone_addr4(sb, zone='wan'):
    return set_elements(sb, f'{zone}_addr4') or []


def table_signature(items):
    """The ruleset without volatile values and table flags, in nft's order."""
    return nft_signature(items)


def check_table_shape(items, zone='wan'):
    """Our table exists with its base chains and zone sets; returns {kind: count}."""
    tables = [o['table'] for o in items if 'table' in o]
    h.check(any(t['family'] == 'inet' and t['name'] == 'alopex' for t in tables),
            f'table inet alopex missing: {tables}')
    chains = {c['name']: c for c in objects(items, 'chain')}
    for base, hook in (('input', 'input'), ('forward', 'forward'), ('output', 'output')):
        h.check(base in chains and chains[base].get('hook') == hook,
                f'base chain {base} (hook {hook}) missing: {sorted(chains)}')
    h.check(f'{zone}_input' in chains, f'zone chain {zone}_input missing: {sorted(chains)}')
    sets = {s['name'] for s in objects(items, 'set')} | {m['name'] for m in objects(items, 'map')}
    for s in (f'{zone}_addr4', f'{zone}_addr6'):
        h.check(s in sets, f'zone address set {s} missing: {sorted(sets)}')
    return {k: len(objects(items, k)) for k in ('chain', 'set', 'map', 'rule', 'counter')}


# ---- the peer ------------------------------------------------------------------------
def make_peer(sb):
    """The peer namespace across fw0/pr0 (see the module doc); sets sb.peer."""
    sb.peer = netns_holder(sb, 'peer')
    run = lambda *a: subprocess.run(list(a), check=True)   # noqa: E731
    run('ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF)
    run('ip', 'link', 'set', PEER_IF, 'netns', str(sb.peer.pid))
    run('ip', 'addr', 'add', f'{HOST_ADDR}/24', 'dev', HOST_IF)
    run('ip', 'addr', 'add', f'{LO_ADDR}/32', 'dev', 'lo')
    run('ip', 'link', 'set', HOST_IF, 'up')
    in_ns(sb.peer, 'ip', 'link', 'set', 'lo', 'up')
    in_ns(sb.peer, 'ip', 'addr', 'add', f'{ALLOWED_SRC}/24', 'dev', PEER_IF)
    in_ns(sb.peer, 'ip', 'addr', 'add', f'{DENIED_SRC}/24', 'dev', PEER_IF)
    in_ns(sb.peer, 'ip', 'link', 'set', PEER_IF, 'up')
    in_ns(sb.peer, 'ip', 'route', 'add', '10.99.0.0/24', 'via', HOST_ADDR)
    # The path works (ICMP echo is allowed by every policy here) before a test relies on it.
    h.wait_until(lambda: peer_ping(sb, HOST_ADDR, ALLOWED_SRC, 0.5), 10, 0.05, 'the peer reaches us')
    return sb.peer


def in_peer(sb, argv, timeout=30, input=None):
    """Runs argv in the peer namespace; returns (rc, stdout, stderr)."""
    r = subprocess.run(['nsenter', '-t', str(sb.peer.pid), '-n', *argv], capture_output=True,
                       text=True, timeout=timeout, input=input)
    return r.returncode, r.stdout, r.stderr


CONNECT_PY = r'''
import socket, sys
src, dst, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(); s.settimeout(timeout)
if src:
    s.bind((src, 0))
try:
    s.connect((dst, port))
    print('OK', s.recv(100).decode().strip())
except socket.timeout:
    print('TIMEOUT')
except ConnectionRefusedError:
    print('REFUSED')
except OSError as e:
    print('ERROR', e)
'''


def connect(sb, dst, port, src=ALLOWED_SRC, timeout=1.0):
    """A TCP connect from the peer (bound to src); 'OK <banner>', 'TIMEOUT', 'REFUSED'."""
    rc, out, err = in_peer(sb, [PY, '-c', CONNECT_PY, src, dst, str(port), str(timeout)],
                           timeout=timeout + 20)
    h.check_eq(rc, 0, f'peer connect script: {err}')
    return out.strip()


def connects(sb, dst, port, src=ALLOWED_SRC, timeout=2.0):
    """Whether a connect from src reaches our listener on port (its banner proves it)."""
    return connect(sb, dst, port, src, timeout) == f'OK hello {port}'


PING_PY = r'''
import os, socket, struct, sys, time
src, dst, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack(f'!{len(b)//2}H', b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
if src:
    s.bind((src, 0))
ident = os.getpid() & 0xffff
body = struct.pack('!BBHHH', 8, 0, 0, ident, 1) + b'alopex'
pkt = body[:2] + struct.pack('!H', csum(body)) + body[4:]
s.sendto(pkt, (dst, 0))
deadline = time.monotonic() + timeout
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        print('TIMEOUT'); break
    s.settimeout(left)
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        print('TIMEOUT'); break
    icmp = data[(data[0] & 15) * 4:]
    if addr[0] == dst and icmp[0] == 0 and struct.unpack('!H', icmp[4:6])[0] == ident:
        print('REPLY'); break
'''


def peer_ping(sb, dst, src=ALLOWED_SRC, timeout=2.0):
    """One ICMP echo from the peer (raw socket); True when the reply came."""
    rc, out, err = in_peer(sb, [PY, '-c', PING_PY, src, dst, str(timeout)], timeout=timeout + 20)
    h.check_eq(rc, 0, f'peer ping script: {err}')
    return out.strip() == 'REPLY'


# ---- listeners in our namespace -----------------------------------------------------------
class Listeners:
    """TCP listeners on 0.0.0.0:<port> in the test's (fwd's) namespace: each connection
    gets 'hello <port>\\n', then its lines are echoed back until it closes."""

    def __init__(self, ports):
        self.socks = []
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('0.0.0.0', port))
            s.listen(64)
            self.socks.append(s)
            threading.Thread(target=self._accept, args=(s, port), daemon=True).start()

    def _accept(self, s, port):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c, port), daemon=True).start()

    @staticmethod
    def _serve(c, port):
        try:
            c.sendall(f'hello {port}\n'.encode())
            while True:
                data = c.recv(4096)
                if not data:
                    break
                c.sendall(data)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        for s in self.socks:
            s.close()


SESSION_PY = r'''
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(); s.settimeout(5)
if src:
    s.bind((src, 0))
s.connect((dst, port))
f = s.makefile('rb')
print(f.readline().decode().strip(), flush=True)
for line in sys.stdin:
    s.sendall(line.encode())
    try:
        print('ECHO', f.readline().decode().strip(), flush=True)
    except socket.timeout:
        print('TIMEOUT', flush=True)
'''


class Session:
    """A long-lived TCP connection from the peer to one of our listeners: send(text)
    returns the echoed line ('' on a timeout). Runs as a python process in the peer ns."""

    def __init__(self, sb, dst, port, src=ALLOWED_SRC):
        self.proc = subprocess.Popen(['nsenter', '-t', str(sb.peer.pid), '-n', PY, '-u', '-c',
                                      SESSION_PY, src, dst, str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.buf = b''
        banner = self._line(10)
        h.check_eq(banner, f'hello {port}', 'session banner')

    def _line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return ''
            chunk = os.read(fd, 4096)
            if not chunk:
                return ''
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode().strip()

    def send(self, text, timeout=10):
        self.proc.stdin.write(text.encode() + b'\n')
        self.proc.stdin.flush()
        line = self._line(timeout)
        return line[len('ECHO '):] if line.startswith('ECHO ') else ''

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.kill()
        self.proc.wait()


PEER_SERVER_PY = r'''
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
print('listening', flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b'peer hello\n')
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
    c.close()
'''


def peer_server(sb, addr, port):
    """An echo server in the peer namespace (a sandbox process); waits until it listens."""
    p = sb.spawn(f'peer-server-{port}', ['nsenter', '-t', str(sb.peer.pid), '-n', PY, '-u', '-c',
                                         PEER_SERVER_PY, addr, str(port)])
    h.wait_until(lambda: 'listening' in p.log(), 10, 0.02, 'peer server listening')
    return p
