#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopexctl against a private bus and against ledgers built here, independently of the
project's ledger code (Python's hashlib and json implement the chain of DESIGN.md §1):

- `status` lists every daemon, shows the running broker with its version and the others
  as not running, as a table and as JSON;
- `ledger verify` accepts a good chain and names the first broken record after the file
  is tampered with (changed details, a removed line, a bad hash, a line that does not
  parse), with exit status 1;
- `ledger show` prints every record, `--tail` the last ones, `--json` all fields;
- the ledger path comes from --file, $ALOPEX_LEDGER, then broker.toml's [ledger] path.
"""
import hashlib
import json
import os
import sys

import alopex_harness as h
from alopex_harness import check, check_eq

ZERO = '0' * 64
DAEMONS = ['alopex-brokerd', 'alopex-linkd', 'alopex-fwd', 'alopex-slirpd',
           'alopex-ovs-agentd', 'alopex-dnsd-controller']


def make_records(n):
    prev, out = ZERO, []
    for seq in range(1, n + 1):
        r = {'seq': seq, 'time': f'2024-05-01T12:00:{seq:02d}.000Z',
             'actor': 'alopex-dns' if seq % 2 else 'uid:4711',
             'action': 'dns.set_upstreams', 'details': f'upstreams=9.9.9.{seq} ü\n"q"',
             'prev': prev}
        canonical = json.dumps(r, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
        r['hash'] = hashlib.sha256((prev + canonical).encode()).hexdigest()
        prev = r['hash']
        out.append(r)
    return out


def write_ledger(path, lines):
    with open(path, 'w', encoding='utf-8') as f:
        for line in lines:
            f.write((line if isinstance(line, str) else
                     json.dumps(line, separators=(',', ':'), ensure_ascii=False)) + '\n')


def ctl(sb, *args, env=None):
    return sb.run([sb.build_path('tools/alopexctl/alopexctl'), *args], env=env)


tap = h.Tap()


@tap.test('status lists every daemon: the broker running with its version')
def _(sb):
    rc, out, err = ctl(sb, 'status', '--json')
    check_eq(rc, 0, f'exit status ({err.strip()})')
    data = json.loads(out)['daemons']
    check_eq([d['daemon'] for d in data], DAEMONS, 'daemons listed')
    broker = data[0]
    check_eq(broker['service'], 'org.alopex.Broker1', 'broker service')
    check_eq(broker['running'], True, 'broker running')
    rc, ver, _ = sb.busctl('--json=short', 'call', 'org.alopex.Broker1', '/org/alopex/Broker1',
                           'org.alopex.Broker1', 'Version')
    check_eq(rc, 0, 'busctl Version')
    check_eq(broker['version'], json.loads(ver)['data'][0], 'version (checked with busctl)')
    for d in data[1:]:
        check_eq((d['running'], d['version']), (False, None), f'{d["daemon"]} state')


@tap.test('status as other users: the D-Bus policy lets only suite users ask the broker')
def _(sb):
    for user, denied in (('alopex-dns', False), ('alopex-test', True)):
        rc, out, err = sb.run([sb.build_path('tools/alopexctl/alopexctl'), 'status', '--json'],
                              as_user=user)
        check_eq(rc, 0, f'{user}: exit status ({err.strip()})')
        broker = json.loads(out)['daemons'][0]
        check_eq(broker['running'], True, f'{user}: broker running')
        if denied:
            check_eq(broker['version'], None, f'{user}: version')
            check('org.freedesktop.DBus.Error.AccessDenied' in broker.get('error', ''),
                  f'{user}: error {broker.get("error")!r}')
        else:
            check(broker['version'], f'{user}: no version ({broker.get("error")})')


@tap.test('status as a table')
def _(sb):
    rc, out, err = ctl(sb, 'status')
    check_eq(rc, 0, f'exit status ({err.strip()})')
    lines = out.splitlines()
    check(lines[0].split() == ['DAEMON', 'BUS', 'NAME', 'STATE', 'VERSION'], lines[0])
    check_eq(len(lines), 1 + len(DAEMONS), 'rows')
    check(lines[1].startswith('alopex-brokerd') and ' running ' in lines[1], lines[1])
    for line in lines[2:]:
        check('not running' in line, line)


@tap.test('status without a bus fails with exit status 3')
def _(sb):
    env = sb.env({'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=' + sb.path('tmp', 'no-such-bus')})
    rc, out, err = ctl(sb, 'status', env=env)
    check_eq(rc, 3, 'exit status')
    check('alopexctl:' in err, err)


@tap.test('ledger verify accepts a good chain')
def _(sb):
    path = sb.path('tmp', 'good.jsonl')
    write_ledger(path, make_records(5))
    rc, out, err = ctl(sb, 'ledger', 'verify', '--file', path)
    check_eq((rc, out.strip()), (0, 'ledger OK: 5 records'), f'verify ({err.strip()})')
    rc, out, _ = ctl(sb, 'ledger', 'verify', '--file', path, '--json')
    check_eq(json.loads(out), {'path': path, 'ok': True, 'records': 5}, 'verify --json')
    write_ledger(path, [])
    rc, out, _ = ctl(sb, 'ledger', 'verify', '--file', path)
    check_eq((rc, out.strip()), (0, 'ledger OK: 0 records'), 'empty ledger')


def expect_broken(sb, lines, seq, line_no, reason_prefix):
    path = sb.path('tmp', 'bad.jsonl')
    write_ledger(path, lines)
    rc, out, err = ctl(sb, 'ledger', 'verify', '--file', path)
    check_eq(rc, 1, f'exit status ({out.strip()} {err.strip()})')
    want = f'ledger BROKEN at record seq {seq} (line {line_no}): {reason_prefix}'
    check(out.startswith(want), f'got {out.strip()!r}, want prefix {want!r}')


@tap.test('ledger verify names the first tampered record')
def _(sb):
    recs = make_records(6)
    recs[3]['details'] = 'upstreams=6.6.6.6'        # seq 4 rewritten, hash left alone
    expect_broken(sb, recs, 4, 4, 'hash mismatch')

    recs = make_records(6)
    expect_broken(sb, recs[:2] + recs[3:], 4, 3, 'seq gap')   # seq 3 removed

    recs = make_records(6)
    recs[4]['hash'] = 'f' * 64                      # seq 5's own hash wrong
    expect_broken(sb, recs, 5, 5, 'hash mismatch')

    recs = make_records(4)
    lines = [json.dumps(r, separators=(',', ':')) for r in recs]
    lines[2] = lines[2][:-5]                        # line 3 truncated
    expect_broken(sb, lines, 3, 3, 'parse error')


@tap.test('ledger show prints all records, --tail the last ones, --json every field')
def _(sb):
    path = sb.path('tmp', 'show.jsonl')
    recs = make_records(4)
    write_ledger(path, recs)
    rc, out, err = ctl(sb, 'ledger', 'show', '--file', path)
    check_eq(rc, 0, f'exit status ({err.strip()})')
    lines = out.splitlines()
    check_eq(lines[0].split(), ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'DETAILS'], 'header')
    check_eq([l.split()[0] for l in lines[1:]], ['1', '2', '3', '4'], 'seq column')
    check(lines[1].endswith('upstreams=9.9.9.1 ü\\n"q"'), f'escaped details: {lines[1]!r}')

    rc, out, _ = ctl(sb, 'ledger', 'show', '--file', path, '--tail', '2', '--json')
    check_eq(json.loads(out), recs[2:], 'show --tail 2 --json')


def split_terse(line):
    """One line of terse output split into its fields, as a script would (nmcli's rules:
    ':' separates, '\\:' and '\\\\' are a literal ':' and '\\'; alopex also writes control
    characters as \\n, \\t, \\xNN)."""
    fields, cur, i = [], '', 0
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line):
            n = line[i + 1]
            if n == 'x':
                cur += chr(int(line[i + 2:i + 4], 16))
                i += 4
                continue
            cur += {'n': '\n', 't': '\t'}.get(n, n)
            i += 2
        elif c == ':':
            fields.append(cur)
            cur = ''
            i += 1
        else:
            cur += c
            i += 1
    return fields + [cur]


@tap.test('ledger show -t -f: terse rows, the chosen fields in order, values escaped')
def _(sb):
    path = sb.path('tmp', 'terse.jsonl')
    recs = make_records(3)
    write_ledger(path, recs)
    rc, out, err = ctl(sb, 'ledger', 'show', '--file', path, '-t', '-f', 'details,SEQ,time')
    check_eq(rc, 0, f'exit status ({err.strip()})')
    lines = out.splitlines()
    check_eq(len(lines), 3, f'one line per record: {out!r}')
    check_eq([split_terse(l) for l in lines],
             [[r['details'], str(r['seq']), r['time']] for r in recs], 'fields read back')
    rc, out, err = ctl(sb, 'ledger', 'show', '--file', path, '-t', '-f', 'nope')
    check_eq(rc, 2, f'an unknown field is a usage error ({err.strip()})')
    check('DETAILS' in err, err)
    rc, _, err = ctl(sb, 'ledger', 'show', '--file', path, '-t', '--json')
    check_eq(rc, 2, f'-t with --json ({err.strip()})')


@tap.test('ledger path: --file, then $ALOPEX_LEDGER, then broker.toml [ledger] path')
def _(sb):
    a, b, c = (sb.path('tmp', f'{n}.jsonl') for n in 'abc')
    write_ledger(a, make_records(1))
    write_ledger(b, make_records(2))
    write_ledger(c, make_records(3))
    conf = sb.path('tmp', 'conf')
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, 'broker.toml'), 'w') as f:
        f.write(f'[ledger]\npath = "{c}"\n')
    env = sb.env({'CONFIGURATION_DIRECTORY': conf})
    env.pop('ALOPEX_LEDGER', None)
    check_eq(ctl(sb, 'ledger', 'verify', env=env)[1].strip(), 'ledger OK: 3 records',
             'from broker.toml')
    env['ALOPEX_LEDGER'] = b
    check_eq(ctl(sb, 'ledger', 'verify', env=env)[1].strip(), 'ledger OK: 2 records',
             'from $ALOPEX_LEDGER')
    check_eq(ctl(sb, 'ledger', 'verify', '--file', a, env=env)[1].strip(),
             'ledger OK: 1 record', 'from --file')
    rc, _, err = ctl(sb, 'ledger', 'verify', '--file', sb.path('tmp', 'missing'), env=env)
    check_eq(rc, 3, f'missing file exit status ({err.strip()})')


@tap.test('the broker\'s own ledger, found through broker.toml, verifies and shows')
def _(sb):
    for i in range(3):
        rc, _, err = sb.busctl('call', 'org.alopex.Broker1', '/org/alopex/Broker1',
                               'org.alopex.Broker1', 'Record', 'ss', 'test.packaging',
                               f'call {i}', as_user='alopex-dns')
        check_eq(rc, 0, f'Record as alopex-dns ({err.strip()})')
    env = sb.env()
    env.pop('ALOPEX_LEDGER', None)
    rc, out, err = ctl(sb, 'ledger', 'verify', env=env)
    check_eq((rc, out.strip()), (0, 'ledger OK: 3 records'), f'verify ({err.strip()})')
    rc, out, err = ctl(sb, 'ledger', 'show', '--json', '--tail', '1', env=env)
    check_eq(rc, 0, f'show ({err.strip()})')
    last = json.loads(out)
    check_eq([(r['seq'], r['actor'], r['action'], r['details']) for r in last],
             [(3, 'alopex-dns', 'test.packaging', 'call 2')], 'last record')


@tap.test('bad command lines exit with status 2')
def _(sb):
    for argv in (['frob'], ['ledger'], ['ledger', 'show', '--tail', 'x'], []):
        rc, _, err = ctl(sb, *argv)
        check_eq(rc, 2, f'{argv}: exit status')
        check('Try \'alopexctl --help\'' in err, err)


def setup(sb):
    sb.start_bus()
    sb.start_broker('[ledger]\npath = "%s"\n[record]\ncallers = ["alopex-dns"]\n'
                    % sb.path('tmp', 'broker-ledger.jsonl'))


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
