#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Atomic managed-file rewrites and the hash-chained ledger: checked by a concurrent
reader, by an independent python implementation of the chain and by alopexctl.
Each test computes what it needs from the ledger it reads (counts before/after, which
record to tamper with), so the tests pass in any order or alone."""
import os
import re
import sys
import threading

import alopex_harness as h
from broker_env import alopexctl, client, ledger_records, read_bytes, setup, verify_chain

REWRITES = 1000
A = b'nameserver 192.0.2.1\n' * 300          # two contents of different sizes, so a
B = b'search a.example b.example\n' * 41     # torn or partial file cannot look whole
tap = h.Tap()


def file_writes(sb):
    return [r for r in ledger_records(sb) if r['action'] == 'broker.WriteManagedFile']


def ensure_writes(sb, n):
    """Makes WriteManagedFile calls until the ledger holds at least n such records."""
    missing = n - len(file_writes(sb))
    if missing > 0:
        out = client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:nameserver 192.0.2.2\n',
                     user='alopex-dns', opts=['--repeat', str(missing)])
        h.check_eq(out, '', f'{missing} writes')
    return file_writes(sb)


@tap.test(f'a reader polling the file during {REWRITES} rewrites never sees a torn file')
def _(sb):
    target = sb.path('targets', 'resolv.conf')
    fa, fb = sb.path('tmp', 'a'), sb.path('tmp', 'b')
    for p, d in ((fa, A), (fb, B)):
        with open(p, 'wb') as f:
            f.write(d)
        os.chmod(p, 0o644)
    before = len(file_writes(sb))
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', f'ay@{fb}', user='alopex-dns'),
               '', 'first write')
    stop, seen, bad = threading.Event(), {A: 0, B: 0}, []

    def reader():
        while not stop.is_set():
            data = read_bytes(target)
            if data in seen:
                seen[data] += 1
            elif len(bad) < 5:
                bad.append(data[:80] + b'... (%d bytes)' % len(data))

    t = threading.Thread(target=reader)
    t.start()
    try:
        out = client(sb, 'WriteManagedFile', 's:resolv.conf', f'ay@{fa}', user='alopex-dns',
                     opts=['--repeat', str(REWRITES), '--alternate', f'ay@{fb}'], timeout=240)
    finally:
        stop.set()
        t.join()
    h.check_eq(out, '', 'rewrites')
    h.check_eq(bad, [], 'torn or empty reads')
    h.diag(f'reads: {seen[A]} of A, {seen[B]} of B')
    h.check(seen[A] > 0 and seen[B] > 0, f'the reader saw both versions ({seen[A]}, {seen[B]})')
    h.check_eq(read_bytes(target), B, 'final contents (the last rewrite is B)')
    h.check_eq(len(file_writes(sb)) - before, REWRITES + 1, 'one ledger record per write')


@tap.test('the ledger chain verifies independently (python hashlib + json)')
def _(sb):
    ensure_writes(sb, 3)
    with open(sb.ledger, encoding='utf-8') as f:
        text = f.read()
    ok, n, bad = verify_chain(text)
    h.check(ok, f'chain broken at line {bad}')
    h.check_eq(n, len(text.splitlines()), 'records')
    h.check(n >= 3, f'only {n} records')
    h.check(all(r['actor'] == 'alopex-dns' for r in ledger_records(sb)), 'actors')


@tap.test('alopexctl ledger verify passes, then names the tampered record')
def _(sb):
    exe = alopexctl(sb)
    ensure_writes(sb, 3)
    rc, out, err = sb.run([exe, 'ledger', 'verify', '--file', sb.ledger])
    h.check_eq(rc, 0, f'verify of the intact ledger: {out}{err}')
    with open(sb.ledger, encoding='utf-8') as f:
        lines = f.read().splitlines(keepends=True)
    # A record in the middle (neither first nor last) whose details can be tampered with.
    candidates = [i for i, line in enumerate(lines[1:-1], 2) if 'bytes=' in line]
    h.check(candidates, f'no middle record with bytes= among {len(lines)}')
    k = candidates[len(candidates) // 2]
    lines[k - 1] = lines[k - 1].replace('bytes=', 'bytes=1', 1)
    tampered = sb.path('tmp', 'tampered.jsonl')
    with open(tampered, 'w', encoding='utf-8') as f:
        f.write(''.join(lines))
    ok, _, bad = verify_chain(''.join(lines))
    h.check_eq((ok, bad), (False, k), 'python verdict on the tampered ledger')
    rc, out, err = sb.run([exe, 'ledger', 'verify', '--file', tampered])
    h.check(rc != 0, f'verify of the tampered ledger passed: {out}{err}')
    text = out + err
    h.diag(f'alopexctl: {text.strip()}')
    h.check(re.search(rf'\b{k}\b', text), f'record {k} not named in: {text!r}')


@tap.test('the running broker keeps appending to the intact ledger')
def _(sb):
    n = len(ledger_records(sb))
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:nameserver ::1\n',
                      user='alopex-dns'), '', 'write')
    recs = ledger_records(sb)
    h.check_eq((len(recs), recs[-1]['seq']), (n + 2, n + 2), 'next records (intent, completion)')
    h.check_eq([r['action'] for r in recs[-2:]],
               ['broker.WriteManagedFile.intent', 'broker.WriteManagedFile'], 'actions')
    ok, _, bad = verify_chain(open(sb.ledger, encoding='utf-8').read())
    h.check(ok, f'chain broken at line {bad}')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
