# SPDX-License-Identifier: GPL-2.0-or-later
"""linkd's DHCPv4 client (the Runner, via test-linkd-dhcp-driver) against a real dnsmasq.

Layout: the test's own network namespace holds dh0 (the client end); dh1 lives in a second
namespace (an `unshare --net sleep` holder) with 10.42.0.1/24 and dnsmasq. The driver only
reports leases; where the unicast path needs the address on the link (renew, release) the
test adds it with `ip`, as linkd would. Checked against dnsmasq's own lease file.
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time

import alopex_harness as h
from alopex_harness import Skip, Tap, check, check_eq
from alopex_peer import Dnsmasq

tap = Tap()
CTX = {}
MTU = 1400


def leases():
    return CTX['peer'].leases()


class Driver:
    def __init__(self, sb, lease_file):
        exe = sb.build_path('tests/integration/linkd/dhcp/test-linkd-dhcp-driver')
        if not os.path.exists(exe):
            raise Skip(f'{exe} not built')
        env = sb.env({'ALOPEX_LOG_LEVEL': 'debug'})
        self.log = open(sb.path('log', 'driver.log'), 'ab')
        self.p = subprocess.Popen([exe, 'dh0', lease_file], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.log, env=env, text=True,
                                  preexec_fn=h._pdeathsig)
        self.events, self.q = [], queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(json.loads(line))

    def wait(self, pred, timeout=30, what='event'):
        deadline = time.monotonic() + timeout
        for e in self.events:
            if pred(e):
                return e
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f'no {what} within {timeout}s; saw {self.events}')
            try:
                e = self.q.get(timeout=left)
            except queue.Empty:
                continue
            self.events.append(e)
            if pred(e):
                return e

    def command(self, cmd):
        n = len([e for e in self.events if e.get('event') == 'done'])
        self.p.stdin.write(cmd + '\n')
        self.p.stdin.flush()
        self.wait(lambda e, n=n: e.get('event') == 'done' and e['command'] == cmd
                  and len([x for x in self.events if x.get('event') == 'done']) > n,
                  what=f'{cmd} done')

    def states(self):
        return [e['to'] for e in self.events if e.get('event') == 'state']

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write('quit\n')
                self.p.stdin.flush()
                self.p.wait(timeout=5)
            except Exception:
                self.p.kill()
                self.p.wait()
        self.log.close()


def dnsmasq_acks(address):
    with open(CTX['dnsmasq'].log_path) as f:
        return f.read().count(f'DHCPACK(dh1) {address}')


def bound(e):
    return e.get('event') == 'bound'


def fresh(sb, name):
    subprocess.run(['ip', 'addr', 'flush', 'dev', 'dh0'], check=True)
    path = sb.path('state', name)
    if os.path.exists(path):
        os.unlink(path)
    return path


def setup(sb):
    peer = Dnsmasq(sb, ours='dh0', theirs='dh1', options=[
        '--dhcp-option=option:dns-server,10.42.0.53,10.42.0.54',
        '--dhcp-option=option:domain-name,test.alopex',
        f'--dhcp-option=option:mtu,{MTU}'])
    subprocess.run(['ip', 'link', 'set', 'dh0', 'up'], check=True)
    CTX['peer'] = peer
    CTX['dnsmasq'] = peer.start()


@tap.test('lease acquired with address, router, DNS, MTU, classless routes as offered')
def _(sb):
    d = Driver(sb, fresh(sb, 'acquire.lease'))
    try:
        e = d.wait(bound, what='bound')
        check_eq(d.states()[:4], ['init', 'selecting', 'requesting', 'bound'], 'states')
        check(e['address'].startswith('10.42.0.'), f'address {e["address"]}')
        check(50 <= int(e['address'].split('.')[-1]) <= 60, 'address within the range')
        check_eq(e['prefixlen'], 24, 'prefixlen')
        check_eq(e['routers'], ['10.42.0.1'], 'routers')
        check_eq(e['dns'], ['10.42.0.53', '10.42.0.54'], 'dns')
        check_eq(e['domain'], 'test.alopex', 'domain')
        check_eq(e['mtu'], MTU, 'mtu')
        check_eq(e['server'], '10.42.0.1', 'server id')
        check_eq(e['lease'], 120, 'lease time')
        check_eq((e['t1'], e['t2']), (60, 105), 'T1/T2')
        check_eq(e['routes'], [{'dst': '10.99.0.0/16', 'gateway': '10.42.0.254'},
                               {'dst': '0.0.0.0/0', 'gateway': '10.42.0.1'}], 'routes (121 wins)')
        link = json.loads(subprocess.run(['ip', '-j', 'link', 'show', 'dh0'], check=True,
                                         capture_output=True, text=True).stdout)
        mac = link[0]['address']
        got = h.wait_until(lambda: leases().get(e['address']), what='dnsmasq lease entry')
        check_eq(got[1], mac, 'dnsmasq leased it to our MAC')
        with open(sb.path('state', 'acquire.lease')) as f:
            text = f.read()
        check(f'address={e["address"]}\n' in text, 'lease file written')
    finally:
        d.stop()


@tap.test('Renew() goes through RENEWING (unicast) and extends the lease at dnsmasq')
def _(sb):
    d = Driver(sb, fresh(sb, 'renew.lease'))
    try:
        e = d.wait(bound, what='bound')
        subprocess.run(['ip', 'addr', 'add', f'{e["address"]}/24', 'dev', 'dh0'], check=True)
        before = h.wait_until(lambda: leases().get(e['address']), what='lease entry')[0]
        acks = dnsmasq_acks(e['address'])
        d.command('renew')
        r = d.wait(lambda x: bound(x) and x['renewed'], what='renewed')
        check_eq(r['address'], e['address'], 'same address')
        check('renewing' in d.states(), f'went through renewing: {d.states()}')
        check('rebinding' not in d.states(), 'no rebinding needed')
        h.wait_until(lambda: dnsmasq_acks(e['address']) > acks, what='dnsmasq ACKed the renewal')
        check(leases()[e['address']][0] >= before, 'expiry not shortened')
    finally:
        d.stop()


@tap.test('restart with the persisted lease: INIT-REBOOT, same address')
def _(sb):
    path = fresh(sb, 'reboot.lease')
    d = Driver(sb, path)
    try:
        first = d.wait(bound, what='bound')
    finally:
        d.stop()
    check(os.path.exists(path), 'lease persisted')
    d2 = Driver(sb, path)
    try:
        again = d2.wait(bound, what='bound after restart')
        check_eq(d2.states()[:3], ['init-reboot', 'rebooting', 'bound'], 'INIT-REBOOT path')
        check_eq(again['address'], first['address'], 'same address')
    finally:
        d2.stop()


@tap.test('release: RELEASE reaches dnsmasq, its lease file drops the lease')
def _(sb):
    path = fresh(sb, 'release.lease')
    d = Driver(sb, path)
    try:
        e = d.wait(bound, what='bound')
        subprocess.run(['ip', 'addr', 'add', f'{e["address"]}/24', 'dev', 'dh0'], check=True)
        h.wait_until(lambda: e['address'] in leases(), what='lease entry')
        d.command('release')
        d.wait(lambda x: x.get('event') == 'lost', what='lost')
        h.wait_until(lambda: e['address'] not in leases(), timeout=10,
                     what='dnsmasq lease file without the lease')
        check(not os.path.exists(path), 'state file removed')
        check_eq(d.states()[-1], 'stopped', 'state')
    finally:
        d.stop()


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
