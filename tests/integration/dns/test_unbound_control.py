#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""dnsd-controller's unbound client (issue 14, in progress) against Debian's real unbound
on 127.0.0.1:53 of the sandbox's network namespace (its control socket in the sandbox),
driven by alopex-test-unbound-control and checked with dig: status gives the version
`unbound -V` prints; 10,000 names blocked in one bulk local_zones answer NXDOMAIN (a
local name still answers) and are unblocked again; a bulk with bad lines reports them and
adds the rest; a line unbound would not take is refused before anything is sent; an
unbound that is SIGSTOPped times out while the loop keeps answering, one that stopped is
"not running", and one started again answers; commands queued at once all run; a blocklist
of 50,000 names brought in by the chunked applier while a probe keeps asking unbound for a
local name (every answer in time, the slowest reported), then 1,000 of them taken out as a
diff; the include dnsd-controller writes is what unbound-checkconf accepts. Against a
fake unbound (a unix socket in the test): a reply with a NUL byte, a huge one, none at
all, a truncated status and silence each give an error, never a hang."""
import os
import signal
import socket
import subprocess
import threading
import time

import alopex_harness as h
from dns_env import CTX, Probe, dig, driver, reply, setup_unbound, start_unbound

tap = h.Tap()

def setup(sb):
    setup_unbound(sb)


@tap.test('status: the version unbound -V prints, its pid, the features of that version')
def _(sb):
    d = CTX['d'] = driver(sb, 'control', f"{CTX['dir']}/control.sock", 5000)
    version = subprocess.run(['unbound', '-V'], capture_output=True, text=True).stdout.split()[1]
    line = d.ask('status', 'status ')
    h.check_eq(line.split()[1], f'version={version}')
    h.check_eq(line.split()[2], f"pid={CTX['unbound'].pid}")
    h.check('reload_keep_cache=1' in line and 'forward_tls=0' in line, line)   # Debian 12: 1.17.1


@tap.test('10,000 names blocked in one bulk answer NXDOMAIN, a local name still answers; unblocked again')
def _(sb):
    d = CTX['d']
    line = d.ask('block 10000 blk.example', 'bulk ', 60)
    h.diag(line)
    h.check('added=10000 errors=0' in line, line)
    for name in ('b0.blk.example', 'b9999.blk.example', 'x.b4321.blk.example'):
        h.check('status: NXDOMAIN' in dig(name), f'{name} blocked')
    h.check('192.0.2.7' in dig('ok.example'), 'the local name answers')
    stats = d.ask('stats', 'stats ')
    h.diag(stats)
    h.check(float(stats.split('nxdomain=')[1].split()[0]) >= 3, stats)
    h.check('buckets=40' in stats, stats)
    line = d.ask('unblock 10000 blk.example', 'bulk ', 60)
    h.check('removed=10000 errors=0' in line, line)
    h.check('status: NXDOMAIN' not in dig('b0.blk.example'), 'unblocked')


@tap.test('a bulk with bad lines: unbound names them, the good ones are added; a line it would not take is '
          'refused before anything is sent')
def _(sb):
    d = CTX['d']
    d.send('bulk 3 local_zones')
    d.send('good.example always_nxdomain')
    d.send('bad..name always_nxdomain')
    got = reply(d, 'y.example nosuchtype')
    h.check_eq(got[-1], 'added 1 zones', got)
    h.check(sum(1 for l in got if l.startswith('error for input line')) == 2, got)
    h.check('status: NXDOMAIN' in dig('good.example'), 'the good line took effect')
    d.send('bulk 2 local_zones')
    d.send('never.example always_nxdomain')
    err = d.ask('x' * 3000, 'error', 10)
    h.check('line 2' in err and '3000 bytes' in err, err)
    h.check('status: NXDOMAIN' not in dig('never.example'), 'nothing of it was sent')
    got = reply(d, 'cmd nosuchcommand')
    h.check_eq(got, ["error unknown command 'nosuchcommand'"])


@tap.test('commands queued at once all run, one connection after the other')
def _(sb):
    line = CTX['d'].ask('many 25 flush_zone blk.example', 'many ', 30)
    h.check_eq(line, 'many ok=25 failed=0')


@tap.test('50,000 names brought in by the chunked applier while a probe keeps asking; then 1,000 taken out as a diff')
def _(sb):
    d = CTX['d']
    probe = Probe()
    probe.start()
    try:
        line = d.ask('apply 50000 apply.example', 'applied ', 120)
    finally:
        probe.stop.set()
        probe.join()
    slowest = max(probe.times)
    h.diag(f'{line}; probe: {len(probe.times)} answers, slowest {1000 * slowest:.1f} ms, '
           f'median {1000 * sorted(probe.times)[len(probe.times) // 2]:.1f} ms, {probe.lost} lost')
    h.check('added=50000 removed=0' in line, line)
    h.check(int(line.split('chunks=')[1].split()[0]) > 1, 'in chunks')
    h.check_eq(probe.lost, 0, 'no probe query lost')
    h.check(slowest < 0.5, f'no probe waited long: {1000 * slowest:.0f} ms')   # sanitizer build; bench/ measures
    h.check('status: NXDOMAIN' in dig('b49999.apply.example'), 'the last name blocked')
    line = d.ask('apply 49000 apply.example', 'applied ', 60)
    h.check('added=0 removed=1000' in line, line)
    h.check('status: NXDOMAIN' not in dig('b49500.apply.example'), 'a name taken out answers again')
    h.check('status: NXDOMAIN' in dig('b48999.apply.example'), 'the others stay')


@tap.test('unbound SIGSTOPped: the command times out, the loop keeps answering; stopped: not running; '
          'started again: it answers')
def _(sb):
    d = driver(sb, 'control-1s', f"{CTX['dir']}/control.sock", 1000)
    u = CTX['unbound']
    os.kill(u.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        d.send('status')
        h.check_eq(d.ask('ping', 'pong', 1), 'pong')
        err = d.expect('error', 5)
        took = time.monotonic() - t0
        h.check("did not answer 'status' within 1.0 s" in err, err)
        h.check(0.9 < took < 3, f'{took:.2f} s')
    finally:
        os.kill(u.pid, signal.SIGCONT)
    h.check(d.ask('status', 'status ', 10).startswith('status version='), 'answers after SIGCONT')
    u.stop()
    err = d.ask('status', 'error', 10)
    h.check('unbound is not running' in err, err)
    start_unbound(sb)
    h.check_eq(d.ask('status', 'status ', 10).split()[2], f"pid={CTX['unbound'].pid}")


@tap.test('the base include (plain and DNS-over-TLS upstreams, dnstap) is what unbound-checkconf accepts')
def _(sb):
    d = CTX['d']
    toml = sb.path('dns.toml')
    with open(toml, 'w') as f:
        f.write('[unbound]\nlisten = ["127.0.0.1"]\ncache_max_ttl = 3600\n'
                '[[upstream]]\naddress = "9.9.9.9"\ntls_name = "dns.quad9.net"\n'
                '[[upstream]]\naddress = "2001:db8::53"\n')
    first = d.ask(f'include {toml} /run/alopex/dns/dnstap.sock', 'include ', 10)
    lines = [d.expect('| ', 5)[2:] for _ in range(int(first.split()[1]))]
    h.check('    forward-addr: 9.9.9.9@853#dns.quad9.net' in lines, lines)
    inc = sb.path('alopex.conf')
    with open(inc, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    conf = sb.path('checkconf.conf')
    with open(conf, 'w') as f:
        f.write(f'server:\n  username: ""\n  chroot: ""\n  directory: "{sb.path()}"\n  pidfile: ""\n'
                f'include: "{inc}"\n')
    r = subprocess.run(['unbound-checkconf', conf], capture_output=True, text=True)
    h.check_eq(r.returncode, 0, f'unbound-checkconf: {r.stdout}{r.stderr}')
    with open(toml, 'w') as f:
        f.write('[unbound]\ncache_min_ttl = 7\n')
    first = d.ask(f'include {toml}', 'include ', 10)
    lines = [d.expect('| ', 5)[2:] for _ in range(int(first.split()[1]))]
    with open(inc, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    r = subprocess.run(['unbound-checkconf', conf], capture_output=True, text=True)
    h.check_eq(r.returncode, 0, f'unbound-checkconf of the defaults: {r.stdout}{r.stderr}')


class Fake(threading.Thread):
    """A unix socket that answers every connection with `answer(request bytes)` (None:
    says nothing and keeps the connection open)."""

    def __init__(self, path, answer):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(path)
        self.s.listen(8)
        self.answer, self.held = answer, []

    def run(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            data = b''
            while not data.endswith(b'\n'):
                part = c.recv(4096)
                if not part:
                    break
                data += part
            out = self.answer(data)
            if out is None:
                self.held.append(c)
                continue
            c.sendall(out)
            c.close()


@tap.test('a fake unbound: NUL bytes, a huge reply, no reply, a truncated status, silence — each an error')
def _(sb):
    cases = [
        (b'version: 1.17.1\x00\nunbound (pid 1) is running...\n', 'status', 'NUL byte'),
        (b'x' * 100000, 'cmd status', 'longer than 4096 bytes'),
        (b'', 'status', 'without a reply'),
        (b'version: 1.17.1\nunbound (pid 12', 'status', "not unbound's status"),
        (None, 'status', 'did not answer'),
    ]
    for i, (answer, line, want) in enumerate(cases):
        path = sb.path(f'fake{i}.sock')
        fake = Fake(path, lambda req, a=answer: a)
        fake.start()
        d = driver(sb, f'fake{i}', path, 1000, 4096)
        err = d.ask(line, 'error', 10)
        h.check(want in err, f'{want!r} in {err!r}')
        h.check_eq(d.ask('ping', 'pong', 2), 'pong')
        fake.s.close()
    # What the fake got: the framing unbound wants.
    seen = []
    path = sb.path('fake-seen.sock')
    fake = Fake(path, lambda req: seen.append(req) or b'ok\n')
    fake.start()
    d = driver(sb, 'fake-seen', path, 1000)
    h.check_eq(reply(d, 'cmd flush_zone example.net'), ['ok'])
    h.check_eq(seen, [b'UBCT1 flush_zone example.net\n'])


h.main(tap, setup)
