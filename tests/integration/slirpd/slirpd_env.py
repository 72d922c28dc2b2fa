# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared setup of slirpd's integration tests (slirpd-ppp-kernel, and slirpd-pppd in the
test VM): alopex-slirpd on a pty of its own, and a peer network namespace to run the
other end of the link in."""
import subprocess

import alopex_harness as h
from alopex_peer import netns_holder


def log_of(p):
    with open(p.log_path, errors='replace') as f:
        return f.read()


def start_slirpd(sb, *args, timeout=20, name='slirpd'):
    """alopex-slirpd --pty ARGS, until READY=1; returns (its Proc, the pty it printed)."""
    ns = sb.notify_socket(name)
    p = sb.spawn(f'alopex-{name}', [sb.build_path('daemons/slirpd/alopex-slirpd'), '--pty', *args],
                 env=sb.env({'NOTIFY_SOCKET': ns.path}))
    ns.start_draining()
    ns.wait_for('READY', '1', timeout=timeout, proc=p)
    pty = [l.split(': ', 1)[1] for l in log_of(p).splitlines() if l.startswith('pty: ')]
    h.check(pty, f'slirpd printed its pty: {log_of(p)}')
    return p, pty[0]


class PeerNamespace:
    """A network namespace for the peer's end; run() and spawn() work inside it."""

    def __init__(self, sb, name):
        self.sb = sb
        self.holder = netns_holder(sb, name)

    def argv(self, *argv):
        return ['nsenter', '-t', str(self.holder.pid), '-n', *argv]

    def run(self, *argv):
        return subprocess.run(self.argv(*argv), capture_output=True, text=True, env=self.sb.env(), timeout=60)

    def spawn(self, name, *argv):
        return self.sb.spawn(name, self.argv(*argv))
