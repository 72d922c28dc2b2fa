# SPDX-License-Identifier: GPL-2.0-or-later
"""What the dnsd-controller tests and benchmarks share: Debian's unbound on 127.0.0.1:53
of the sandbox's network namespace with its control socket in the sandbox, the test
driver alopex-test-unbound-control, dig, and a probe that keeps asking unbound."""
import os
import socket
import subprocess
import threading
import time

import alopex_harness as h
from alopex_driver import Driver

CTX = {}

CONF = '''server:
  interface: 127.0.0.1
  port: 53
  username: ""
  chroot: ""
  directory: "{dir}"
  pidfile: ""
  use-syslog: no
  verbosity: 1
  num-threads: 1
  module-config: "iterator"
  extended-statistics: yes
  local-data: "ok.example. IN A 192.0.2.7"
remote-control:
  control-enable: yes
  control-interface: {dir}/control.sock
'''


def start_unbound(sb):
    d = CTX['dir']
    if os.path.exists(f'{d}/control.sock'):
        os.unlink(f'{d}/control.sock')   # unbound leaves it behind when it stops
    p = sb.spawn('unbound', ['unbound', '-d', '-c', f'{d}/unbound.conf'])
    h.wait_until(lambda: os.path.exists(f'{d}/control.sock'), 10, 0.02, 'unbound listening')
    CTX['unbound'] = p
    return p


def driver(sb, name, socket_path, *args):
    d = Driver(sb, name, [sb.build_path('tests/integration/dns/alopex-test-unbound-control'), socket_path,
                          *[str(a) for a in args]])
    d.expect('ready', 10)
    return d


def dig(name):
    r = subprocess.run(['dig', '@127.0.0.1', name, '+tries=1', '+time=2'], capture_output=True, text=True)
    return r.stdout


def reply(d, line, timeout=20):
    """The driver's reply to `line`: its lines, or raises with the error."""
    first = d.ask(line, '', timeout)
    if first.startswith('error'):
        return first
    h.check(first.startswith('reply '), first)
    return [d.expect('| ', 5)[2:] for _ in range(int(first.split()[1]))]



def setup_unbound(sb, extra='', files=None):
    """unbound started with CONF plus `extra`; `files` (name -> text) written beside its
    configuration first."""
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    CTX['dir'] = sb.path('unbound')
    os.makedirs(CTX['dir'])
    for name, text in (files or {}).items():
        with open(f"{CTX['dir']}/{name}", 'w') as f:
            f.write(text)
    with open(f"{CTX['dir']}/unbound.conf", 'w') as f:
        f.write(CONF.format(dir=CTX['dir']) + extra)
    return start_unbound(sb)


class Probe(threading.Thread):
    """Asks unbound for ok.example over UDP every 10 ms and keeps each answer's time."""

    def __init__(self):
        super().__init__(daemon=True)
        self.times, self.lost, self.stop = [], 0, threading.Event()

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        qid = 0
        while not self.stop.is_set():
            qid = (qid + 1) & 0xffff
            query = qid.to_bytes(2, 'big') + b'\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' + \
                b'\x02ok\x07example\x00\x00\x01\x00\x01'
            t0 = time.monotonic()
            s.sendto(query, ('127.0.0.1', 53))
            try:
                while s.recv(512)[:2] != qid.to_bytes(2, 'big'):
                    pass
                self.times.append(time.monotonic() - t0)
            except socket.timeout:
                self.lost += 1
            time.sleep(0.01)
