# SPDX-License-Identifier: GPL-2.0-or-later
"""Peers for integration tests: network namespaces held by `unshare --net sleep` processes
(no `ip netns`, which would write /run/netns on the host), and a DHCP server in one of them
across a veth pair: a real dnsmasq, or, where a test must see a lease run out and
dnsmasq's shortest (two minutes) would make it wait, ShortLeaseServer, a few lines of
RFC 2131 written here (independent of linkd's client) that leases for seconds."""
import os
import shutil
import subprocess

from alopex_harness import Skip, wait_until


def netns_holder(sb, name):
    """A process holding a fresh network namespace (dies with the sandbox); returns it."""
    p = sb.spawn(name, ['unshare', '--net', '--', 'sleep', 'infinity'])
    mine = os.readlink('/proc/self/ns/net')

    def entered():
        try:
            return os.readlink(f'/proc/{p.pid}/ns/net') != mine
        except OSError:
            return False
    wait_until(entered, 10, 0.01, f'{name} in its own network namespace')
    return p


def in_ns(holder, *argv):
    """Runs argv in the holder's network namespace; fails the test when it fails."""
    subprocess.run(['nsenter', '-t', str(holder.pid), '-n', *argv], check=True,
                   stdout=subprocess.DEVNULL)


def dhcp_peer(sb, ours, theirs):
    """A peer namespace holding `theirs` (10.42.0.1/24, up), the other end of a veth pair
    whose end `ours` stays in the test's namespace; returns the holder."""
    holder = netns_holder(sb, 'dhcp-peer')
    subprocess.run(['ip', 'link', 'add', ours, 'type', 'veth', 'peer', 'name', theirs], check=True)
    subprocess.run(['ip', 'link', 'set', theirs, 'netns', str(holder.pid)], check=True)
    in_ns(holder, 'ip', 'link', 'set', 'lo', 'up')
    in_ns(holder, 'ip', 'addr', 'add', '10.42.0.1/24', 'dev', theirs)
    in_ns(holder, 'ip', 'link', 'set', theirs, 'up')
    return holder


class _Server:
    """What both DHCP servers share: their process (self.proc) stopped and its log."""

    def stop(self):
        """kill -9: a server that is gone, not one that says goodbye."""
        self.proc.popen.kill()
        self.proc.popen.wait()

    def log(self):
        with open(self.proc.log_path, errors='replace') as f:
            return f.read()


class Dnsmasq(_Server):
    """dnsmasq serving 10.42.0.50..60/24 (lease 2m, router 10.42.0.1, option 121 routes
    10.99.0.0/16 via .254 and default via .1) on `theirs`, in a peer namespace; `ours`,
    the other end of the veth, stays in the test's namespace. `options` are more dnsmasq
    arguments (DNS, MTU, T1/T2, ...). start() may be called again after stop()."""

    def __init__(self, sb, ours='ld0', theirs='ld1', options=()):
        self.exe = shutil.which('dnsmasq') or '/usr/sbin/dnsmasq'
        if not os.path.exists(self.exe):
            raise Skip('dnsmasq not installed (Debian package dnsmasq-base)')
        self.sb, self.ours, self.theirs, self.options = sb, ours, theirs, list(options)
        self.holder = dhcp_peer(sb, ours, theirs)
        self.leasefile = sb.path('tmp', 'dnsmasq.leases')
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        name = 'dnsmasq' if self.starts == 1 else f'dnsmasq-{self.starts}'
        self.proc = self.sb.spawn(name, [
            'nsenter', '-t', str(self.holder.pid), '-n', self.exe, '--no-daemon', '--port=0',
            '--conf-file=/dev/null', '--user=root', '--group=root', '--pid-file=',
            f'--interface={self.theirs}', '--bind-interfaces', '--log-facility=-', '--log-dhcp',
            '--dhcp-authoritative', f'--dhcp-leasefile={self.leasefile}',
            '--dhcp-range=10.42.0.50,10.42.0.60,255.255.255.0,2m',
            '--dhcp-option=option:router,10.42.0.1',
            '--dhcp-option=121,10.99.0.0/16,10.42.0.254,0.0.0.0/0,10.42.0.1', *self.options])
        wait_until(lambda: 'started' in self.log(), 10, 0.02, 'dnsmasq start')
        return self.proc


    def leases(self):
        """dnsmasq's lease file: {address: (expiry, mac)}."""
        out = {}
        try:
            with open(self.leasefile) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        out[parts[2]] = (int(parts[0]), parts[1])
        except FileNotFoundError:
            pass
        return out


SHORT_LEASE_PY = r'''
import socket, struct, sys
iface, lease, t1, t2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
SERVER, ROUTER, OFFERED = bytes([10, 42, 0, 1]), bytes([10, 42, 0, 1]), bytes([10, 42, 0, 50])
MAGIC = bytes([99, 130, 83, 99])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
s.bind(('0.0.0.0', 67))
print('started', flush=True)
def options(b):
    out, i = {}, 0
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        out[b[i]] = b[i + 2:i + 2 + b[i + 1]]
        i += 2 + b[i + 1]
    return out
def opt(code, value):
    return bytes([code, len(value)]) + value
while True:
    data, _ = s.recvfrom(4096)
    if len(data) < 240 or data[0] != 1 or data[236:240] != MAGIC:
        continue
    o = options(data[240:])
    kind = o.get(53, b'\0')[0]
    mac = data[28:34].hex(':')
    if kind == 1:
        reply = 2                                   # DISCOVER -> OFFER
    elif kind == 3:                                 # REQUEST -> ACK for our address, else NAK
        want = o.get(50) or data[12:16]
        reply = 5 if want == OFFERED else 6
    else:
        continue
    yiaddr = OFFERED if reply != 6 else bytes(4)
    head = struct.pack('!BBBB4s2s2s4s4s4s4s16s', 2, 1, 6, 0, data[4:8], b'\0\0', data[10:12],
                       bytes(4), yiaddr, SERVER, bytes(4), data[28:44])
    body = opt(53, bytes([reply])) + opt(54, SERVER)
    if reply != 6:
        body += (opt(51, struct.pack('!I', lease)) + opt(58, struct.pack('!I', t1)) +
                 opt(59, struct.pack('!I', t2)) + opt(1, bytes([255, 255, 255, 0])) +
                 opt(3, ROUTER) +
                 opt(121, bytes([16, 10, 99, 10, 42, 0, 254, 0, 10, 42, 0, 1])))
    s.sendto(head + bytes(192) + MAGIC + body + b'\xff', ('255.255.255.255', 68))
    print({2: 'OFFER', 5: 'ACK', 6: 'NAK'}[reply], '10.42.0.50', 'to', mac, flush=True)
'''


class ShortLeaseServer(_Server):
    """A DHCP server of a few lines (SHORT_LEASE_PY, RFC 2131) on `theirs` in a peer
    namespace, for tests that must see a lease run out: it offers 10.42.0.50/24 for `lease`
    seconds with T1/T2 as given (dnsmasq will not lease for less than two minutes), router
    10.42.0.1 and option 121 routes 10.99.0.0/16 via .254 and default via .1 (as Dnsmasq
    does), answers by broadcast, and NAKs a request for any other address."""

    def __init__(self, sb, lease, t1, t2, ours='ld0', theirs='ld1'):
        self.sb, self.ours, self.theirs = sb, ours, theirs
        self.lease, self.t1, self.t2 = lease, t1, t2
        self.holder = dhcp_peer(sb, ours, theirs)
        self.proc = None

    def start(self):
        self.proc = self.sb.spawn('dhcp-server', [
            'nsenter', '-t', str(self.holder.pid), '-n', '/usr/bin/python3', '-u', '-c',
            SHORT_LEASE_PY, self.theirs, str(self.lease), str(self.t1), str(self.t2)])
        wait_until(lambda: 'started' in self.log(), 10, 0.02, 'the DHCP server start')
        return self.proc

