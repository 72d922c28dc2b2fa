#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the broker writes to its ledger, seen from the bus and the file: an intent record
before every managed write and a completion after it (hashes checked with hashlib), the
reserved broker.* actions no caller can forge through Record, Record's rate limit per
caller, and a ledger whose last line a crash tore: cut at start under a record of the cut,
after which alopexctl and an independent python check both verify the chain."""
import hashlib
import sys

import alopex_harness as h
from broker_env import (alopexctl, broker_toml, client, expect_error, ledger_records,
                        read_bytes, setup, verify_chain, write_bytes)

BURST = 10   # the forged-action test below makes 7 calls as alopex-fw
LIMITS = f'record_burst = {BURST}\nrecord_rate = 1\n'
CALLERS = ('alopex-link', 'alopex-fw', 'alopex-slirp')
tap = h.Tap()


def setup_limited(sb):
    setup(sb, limits=LIMITS, record_callers=CALLERS)


def field(details, key):
    for word in details.split(' '):
        if word.startswith(key + '='):
            return word[len(key) + 1:]
    return None


@tap.test('WriteManagedFile is recorded as intent then completion, with the new SHA-256')
def _(sb):
    n = len(ledger_records(sb))
    data = b'nameserver 192.0.2.77\n'
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', f'ay:{data.decode()}',
                      user='alopex-dns'), '', 'write')
    recs = ledger_records(sb)[n:]
    h.check_eq([r['action'] for r in recs],
               ['broker.WriteManagedFile.intent', 'broker.WriteManagedFile'], 'actions')
    h.check_eq(recs[0]['details'], recs[1]['details'], 'same details')
    h.check_eq(field(recs[0]['details'], 'sha256'), hashlib.sha256(data).hexdigest(), 'sha256')
    h.check_eq(read_bytes(sb.path('targets', 'resolv.conf')), data, 'file')


@tap.test('WriteManagedBlock is recorded as intent then completion, with both hashes')
def _(sb):
    blk = sb.path('targets', 'interfaces')
    write_bytes(blk, b'auto lo\n# BEGIN ovs\n# END ovs\n')
    n = len(ledger_records(sb))
    body = 'auto vi3\niface vi3 inet manual\n  ovs_type OVSPort\n  ovs_bridge vmbr0\n'
    h.check_eq(client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', f's:{body}',
                      user='alopex-ovs'), '', 'write')
    recs = ledger_records(sb)[n:]
    h.check_eq([r['action'] for r in recs],
               ['broker.WriteManagedBlock.intent', 'broker.WriteManagedBlock'], 'actions')
    h.check_eq(field(recs[0]['details'], 'sha256'), hashlib.sha256(body.encode()).hexdigest(),
               'sha256 of the contents')
    h.check_eq(field(recs[1]['details'], 'file_sha256'),
               hashlib.sha256(read_bytes(blk)).hexdigest(), 'sha256 of the file')


@tap.test('Record refuses the broker\'s own actions, in any case; nothing is written')
def _(sb):
    n = len(ledger_records(sb))
    for action in ('broker.WriteManagedFile', 'broker.WriteManagedFile.intent',
                   'broker.ledger-cut', 'Broker.OpenDevice', 'BROKER.x', 'broker'):
        expect_error(client(sb, 'Record', f's:{action}', 's:id=resolv.conf', user='alopex-fw'),
                     'org.alopex.Error.InvalidArgument', 'action')
    h.check_eq(len(ledger_records(sb)), n, 'no record')
    h.check_eq(client(sb, 'Record', 's:fw.apply', 's:ok', user='alopex-fw'), '', 'fw.apply')


@tap.test(f'Record is rate-limited per caller (burst {BURST}, 1/s): RateLimited, then others go on')
def _(sb):
    n = len(ledger_records(sb))
    out = client(sb, 'Record', 's:link.flood', 's:x', user='alopex-link',
                 opts=['--repeat', '200'])
    expect_error(out, 'org.alopex.Error.RateLimited', 'rate limit')
    written = len([r for r in ledger_records(sb)[n:] if r['action'] == 'link.flood'])
    h.diag(f'{written} records before the limit')
    h.check(BURST <= written < 200, f'{written} records written')
    h.check_eq(client(sb, 'Record', 's:slirp.up', 's:x', user='alopex-slirp'), '',
               'another caller has its own bucket')


@tap.test('a torn last ledger line is cut at start and recorded; the chain verifies')
def _(sb):
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:nameserver ::1\n',
                      user='alopex-dns'), '', 'a record to tear after')
    sb.broker.stop()
    with open(sb.ledger, 'rb') as f:
        good = f.read()
    torn = b'{"seq":%d,"time":"2026-01-01T00:00' % (good.count(b'\n') + 1)
    write_bytes(sb.ledger, good + torn)
    sb.broker = sb.start_broker(broker_toml(sb, LIMITS, CALLERS))
    recs = ledger_records(sb)
    h.check_eq((recs[-1]['action'], recs[-1]['actor']), ('broker.ledger-cut', 'root'), 'record')
    h.check_eq(recs[-1]['details'], f'bytes={len(torn)} offset={len(good)}', 'details')
    with open(sb.ledger, 'rb') as f:
        h.check(f.read().startswith(good), 'the good records are kept')
    rc, out, err = sb.run([alopexctl(sb), 'ledger', 'verify', '--file', sb.ledger])
    h.check_eq(rc, 0, f'alopexctl ledger verify: {out}{err}')
    ok, _, bad = verify_chain(open(sb.ledger, encoding='utf-8').read())
    h.check(ok, f'python: chain broken at line {bad}')
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:nameserver ::2\n',
                      user='alopex-dns'), '', 'the broker serves writes again')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup_limited))
