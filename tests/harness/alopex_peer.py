# SPDX-License-Identifier: GPL-2.0-or-later
"""Peers for integration tests: network namespaces held by `unshare --net sleep` processes
(no `ip netns`, which would write /run/netns on the host) and a real dnsmasq serving DHCP
in one of them across a veth pair."""
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


class Dnsmasq:
    """dnsmasq serving 10.42.0.50..60/24 (lease 2m, router 10.42.0.1, option 121 routes
    10.99.0.0/16 via .254 and default via .1) on `theirs`, in a peer namespace; `ours`,
    the other end of the veth, stays in the test's namespace. `options` are more dnsmasq
    arguments (DNS, MTU, T1/T2, ...). start() may be called again after stop()."""

    def __init__(self, sb, ours='ld0', theirs='ld1', options=()):
        self.exe = shutil.which('dnsmasq') or '/usr/sbin/dnsmasq'
        if not os.path.exists(self.exe):
            raise Skip('dnsmasq not installed (Debian package dnsmasq-base)')
        self.sb, self.ours, self.theirs, self.options = sb, ours, theirs, list(options)
        self.holder = netns_holder(sb, 'dhcp-peer')
        subprocess.run(['ip', 'link', 'add', ours, 'type', 'veth', 'peer', 'name', theirs], check=True)
        subprocess.run(['ip', 'link', 'set', theirs, 'netns', str(self.holder.pid)], check=True)
        in_ns(self.holder, 'ip', 'link', 'set', 'lo', 'up')
        in_ns(self.holder, 'ip', 'addr', 'add', '10.42.0.1/24', 'dev', theirs)
        in_ns(self.holder, 'ip', 'link', 'set', theirs, 'up')
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

    def stop(self):
        """kill -9: a server that is gone, not one that says goodbye."""
        self.proc.popen.kill()
        self.proc.popen.wait()

    def log(self):
        with open(self.proc.log_path, errors='replace') as f:
            return f.read()

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
