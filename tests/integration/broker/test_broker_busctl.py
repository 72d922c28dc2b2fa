#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The mutating broker calls made with busctl, an independent client (no alopex code on
the calling side): WriteManagedFile with `say` and WriteManagedBlock with `sss`, allowed
ones checked byte for byte on the target file, a refused one by busctl's error message.
(busctl prints only the error message, not its name: alopex-test-client exists for that,
see tests/harness/test_client.cpp.) Each test sets up the target state it needs."""
import hashlib
import os
import sys

import alopex_harness as h
from broker_env import BROKER, ledger_records, read_bytes, setup, write_bytes

tap = h.Tap()


def busctl_call(sb, user, method, sig, *args):
    return sb.busctl('call', *BROKER, method, sig, *[str(a) for a in args], as_user=user)


def last_record(sb, action):
    recs = [r for r in ledger_records(sb) if r['action'] == action]
    return recs[-1] if recs else None


@tap.test('busctl as alopex-dns: WriteManagedFile "say" writes every byte value exactly')
def _(sb):
    target = sb.path('targets', 'resolv.conf')
    data = bytes(range(256)) + b'\nnameserver 192.0.2.7\n\x00tail'
    n = len(ledger_records(sb))
    rc, out, err = busctl_call(sb, 'alopex-dns', 'WriteManagedFile', 'say', 'resolv.conf',
                               len(data), *data)
    h.check_eq((rc, out.strip(), err.strip()), (0, '', ''), 'busctl call')
    h.check_eq(read_bytes(target), data, 'resolv.conf, byte for byte')
    rec = last_record(sb, 'broker.WriteManagedFile')
    h.check_eq(len(ledger_records(sb)), n + 2, 'two new ledger records (intent, completion)')
    h.check_eq(last_record(sb, 'broker.WriteManagedFile.intent')['details'], rec['details'],
               'the intent names the same contents')
    h.check_eq(rec['actor'], 'alopex-dns', 'actor')
    h.check(f'bytes={len(data)} ' in rec['details'] and
            f'sha256={hashlib.sha256(data).hexdigest()}' in rec['details'], rec['details'])
    # An empty array is a valid (empty) file.
    rc, _, err = busctl_call(sb, 'alopex-dns', 'WriteManagedFile', 'say', 'resolv.conf', 0)
    h.check_eq(rc, 0, f'empty write ({err})')
    h.check_eq(read_bytes(target), b'', 'resolv.conf after the empty write')


@tap.test('busctl as alopex-ovs: WriteManagedBlock "sss" replaces only the block')
def _(sb):
    blk = sb.path('targets', 'interfaces')
    head, tail = b'auto lo\niface lo inet loopback\n', b'# END ovs\nsource x\n'
    write_bytes(blk, head + b'# BEGIN ovs\nold\n' + tail)
    body = 'auto vi7\niface vi7 inet manual\n\tovs_bridge vmbr0\n# caf\u00e9'
    rc, out, err = busctl_call(sb, 'alopex-ovs', 'WriteManagedBlock', 'sss', 'interfaces',
                               'ovs', body)
    h.check_eq((rc, out.strip(), err.strip()), (0, '', ''), 'busctl call')
    h.check_eq(read_bytes(blk), head + b'# BEGIN ovs\n' + body.encode() + b'\n' + tail,
               'interfaces, byte for byte')
    rec = last_record(sb, 'broker.WriteManagedBlock')
    h.check_eq(rec['actor'], 'alopex-ovs', 'actor')
    h.check('tag=ovs ' in rec['details'], rec['details'])


@tap.test('busctl: a refused call fails with the broker\'s message; nothing changes')
def _(sb):
    target = sb.path('targets', 'resolv.conf')
    write_bytes(target, b'nameserver 192.0.2.1\n')
    n = len(ledger_records(sb))
    rc, out, err = busctl_call(sb, 'alopex-fw', 'WriteManagedFile', 'say', 'resolv.conf',
                               4, 101, 118, 105, 108)
    h.diag(f'busctl stderr: {err.strip()}')
    h.check(rc != 0, f'busctl as alopex-fw succeeded: {out}')
    uid = sb.user('alopex-fw')[0]
    h.check('Call failed' in err and f"uid {uid} may not write file 'resolv.conf'" in err,
            f'busctl stderr: {err!r}')
    rc, out, err = busctl_call(sb, 'alopex-dns', 'WriteManagedBlock', 'sss', 'interfaces',
                               'ovs', 'x')
    h.check(rc != 0, f'WriteManagedBlock as alopex-dns succeeded: {out}')
    uid = sb.user('alopex-dns')[0]
    h.check(f"uid {uid} may not write block 'interfaces'" in err, f'busctl stderr: {err!r}')
    h.check_eq(read_bytes(target), b'nameserver 192.0.2.1\n', 'resolv.conf unchanged')
    h.check_eq(len(ledger_records(sb)), n, 'no ledger record for refusals')
    h.check(os.path.exists(target), 'target still there')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
