# SPDX-License-Identifier: GPL-2.0-or-later
"""What the ovs-agentd tests share: a private ovsdb-server (and ovs-vswitchd with the
userspace datapath) in a sandbox directory, ovs-vsctl against it, and a test driver
talked to over a socketpair (commands in, event lines out)."""
import os
import select
import socket
import subprocess
import time

import alopex_harness as h


class Driver:
    """A test program on a socketpair: commands in, event lines out."""

    def __init__(self, sb, name, argv):
        self.sock, theirs = socket.socketpair()
        self.proc = sb.spawn(name, argv, stdio=theirs.fileno())
        theirs.close()
        self.sock.setblocking(False)
        self.buf = b''
        self.lines = []

    def _read(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buf += data
        except BlockingIOError:
            pass
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            self.lines.append(line.decode())

    def expect(self, prefix, timeout=10):
        """The first line not taken yet that starts with `prefix` (earlier ones are dropped);
        waits on the socket, so the line is seen as soon as it is written."""
        deadline = time.monotonic() + timeout
        while True:
            self._read()
            for i, line in enumerate(self.lines):
                if line.startswith(prefix):
                    del self.lines[:i + 1]
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f'timed out after {timeout}s waiting for "{prefix}" from {self.proc.name}; '
                                   f'it said {self.lines[-10:]}')
            select.select([self.sock], [], [], left)

    def take(self, prefix):
        """Every line not taken yet that starts with `prefix` (taken now; others stay)."""
        self._read()
        got = [l for l in self.lines if l.startswith(prefix)]
        self.lines = [l for l in self.lines if not l.startswith(prefix)]
        return got

    def send(self, line):
        self.sock.setblocking(True)
        self.sock.sendall(line.encode() + b'\n')
        self.sock.setblocking(False)

    def ask(self, line, prefix, timeout=10):
        self.send(line)
        return self.expect(prefix, timeout)


def create_db(sb):
    d = sb.path('ovs')
    os.makedirs(d)
    subprocess.run(['ovsdb-tool', 'create', f'{d}/conf.db', '/usr/share/openvswitch/vswitch.ovsschema'], check=True)
    return d


def start_ovsdb(sb, d):
    p = sb.spawn('ovsdb-server', ['ovsdb-server', f'{d}/conf.db', f'--remote=punix:{d}/db.sock',
                                  f'--unixctl={d}/ovsdb.ctl', '--no-chdir'])
    h.wait_until(lambda: os.path.exists(f'{d}/db.sock'), 10, 0.02, 'ovsdb-server listening')
    return p


def start_vswitchd(sb, d, system=False):
    """ovs-vswitchd on the sandbox's database, its sockets in `d`: the userspace datapath
    only (its devices live in the sandbox's network namespace), or with system=True the
    kernel's too (openvswitch.ko, in the test VM)."""
    return sb.spawn('ovs-vswitchd', ['ovs-vswitchd', f'unix:{d}/db.sock', *([] if system else ['--disable-system']),
                                     f'--unixctl={d}/vswitchd.ctl', '--no-chdir'], env=sb.env({'OVS_RUNDIR': d}))


def vsctl(sb, d, *args):
    rc, out, err = sb.run(['ovs-vsctl', f'--db=unix:{d}/db.sock', '--no-wait', '--timeout=10', *args])
    h.check_eq(rc, 0, f'ovs-vsctl {args}: {err}')
    return out


def veth(name, peer):
    subprocess.run(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer], check=True)
    for link in (name, peer):
        subprocess.run(['ip', 'link', 'set', link, 'up'], check=True)
