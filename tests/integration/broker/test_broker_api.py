#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""org.alopex.Broker1 through the bus: busctl and alopex-test-client as callers of
various UIDs; results checked on the files, the pty and ovsdb-server themselves."""
import json
import os
import re
import select
import socket
import sys
import threading
import tty

import alopex_harness as h
from alopex_dbus import check_introspection
from broker_env import (BROKER, MAX_CONTENTS, client, expect_error, ledger_records,
                        read_bytes, setup, write_bytes)

NA = 'org.alopex.Error.NotAuthorized'
tap = h.Tap()


def project_version(sb):
    with open(sb.source_path('meson.build')) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


@tap.test('Ping and Version answer over busctl')
def _(sb):
    rc, out, err = sb.busctl('call', *BROKER, 'Ping')
    h.check_eq(rc, 0, f'Ping ({err})')
    rc, data, err = sb.call(*BROKER, 'Version')
    h.check_eq((rc, data), (0, [project_version(sb)]), f'Version ({err})')
    h.check_eq(client(sb, 'Version', user='alopex-fw'), project_version(sb), 'as alopex-fw')


@tap.test('live introspection of /org/alopex/Broker1 equals ipc/org.alopex.Broker1.xml')
def _(sb):
    check_introspection(sb, 'org.alopex.Broker1', '/org/alopex/Broker1', 'org.alopex.Broker1',
                        'ipc/org.alopex.Broker1.xml')


@tap.test('OpenDevice hands over a pty fd; bytes written through it reach the pty')
def _(sb):
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        path = os.ttyname(slave)
        payload = 'hello from the broker fd \x01\x02\xff'
        out = client(sb, 'OpenDevice', f's:{path}', user='alopex-slirp',
                     opts=['--fd-write', payload])
        h.check_eq(out, 'fd char', 'OpenDevice reply')
        want, got = payload.encode(), b''
        def received():
            nonlocal got
            if select.select([master], [], [], 0.05)[0]:
                got += os.read(master, 4096)
            return len(got) >= len(want)
        h.wait_until(received, 10, 0, 'bytes on the pty master')
        h.check_eq(got, want, 'bytes on the pty')
        rec = ledger_records(sb)[-1]
        h.check_eq((rec['actor'], rec['action']), ('alopex-slirp', 'broker.OpenDevice'), 'ledger')
        h.check(path in rec['details'], rec['details'])
    finally:
        os.close(master)
        os.close(slave)


@tap.test('OpenDevice refuses paths outside the glob, relative paths and dot components')
def _(sb):
    for path in ('/dev/pts/../null', '/dev/pts/./0', 'dev/pts/0', '/dev//pts/0', '/dev/pts/'):
        out = client(sb, 'OpenDevice', f's:{path}', user='alopex-slirp')
        expect_error(out, 'org.alopex.Error.PathNotAllowed')
    master, slave = os.openpty()
    try:
        # A path no glob matches and a glob listing somebody else: one answer, so a
        # caller cannot probe which devices the table lists.
        uid = sb.user('alopex-dns')[0]
        pty = os.ttyname(slave)
        listed = client(sb, 'OpenDevice', f's:{pty}', user='alopex-dns')
        nowhere = client(sb, 'OpenDevice', 's:/dev/null', user='alopex-dns')
        expect_error(listed, NA, f"path: uid {uid} may not open '{pty}'")
        expect_error(nowhere, NA, f"path: uid {uid} may not open '/dev/null'")
        h.check_eq(listed.replace(pty, 'P'), nowhere.replace('/dev/null', 'P'), 'same shape')
        expect_error(client(sb, 'OpenDevice', 's:/dev/null', user='alopex-slirp'), NA)
    finally:
        os.close(master)
        os.close(slave)


@tap.test('WriteManagedFile: allowed caller writes; others refused; file unchanged')
def _(sb):
    target = sb.path('targets', 'resolv.conf')
    if os.path.exists(target):
        os.unlink(target)   # other tests may have written it: this one wants a new file
    data = b'nameserver 192.0.2.53\nsearch example.test\n'
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', f'ay:{data.decode()}',
                      user='alopex-dns'), '', 'alopex-dns write')
    h.check_eq(read_bytes(target), data, 'resolv.conf')
    h.check_eq(os.stat(target).st_mode & 0o7777, 0o644, 'mode of a new file')
    before = len(ledger_records(sb))
    expect_error(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:evil', user='alopex-fw'),
                 NA)
    expect_error(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:evil'), NA)  # root
    expect_error(client(sb, 'WriteManagedFile', 's:resolv.conf', 'ay:evil',
                        user='alopex-test'), 'org.freedesktop.DBus.Error.AccessDenied')
    rc, _, err = sb.busctl('call', *BROKER, 'Ping', as_user='alopex-test')
    h.check(rc != 0, 'alopex-test may not even Ping the broker (D-Bus policy)')
    h.check_eq(read_bytes(target), data, 'resolv.conf after refusals')
    h.check_eq(len(ledger_records(sb)), before, 'refused operations add no ledger record')


@tap.test('unknown id, oversized contents and bad tags get named errors')
def _(sb):
    target = sb.path('targets', 'resolv.conf')
    old = b'nameserver 192.0.2.3\n'
    write_bytes(target, old)
    expect_error(client(sb, 'WriteManagedFile', 's:nope', 'ay:x', user='alopex-dns'), NA, 'nope')
    expect_error(client(sb, 'WriteManagedFile', 's:resolv.conf', f'ayN:{MAX_CONTENTS + 1}',
                        user='alopex-dns'), 'org.alopex.Error.TooLarge')
    h.check_eq(read_bytes(target), old, 'resolv.conf unchanged')
    h.check_eq(client(sb, 'WriteManagedFile', 's:resolv.conf', f'ayN:{MAX_CONTENTS}',
                      user='alopex-dns'), '', 'exactly the cap is allowed')
    write_bytes(target, old)
    blk = sb.path('targets', 'interfaces')
    write_bytes(blk, b'# BEGIN ovs\n# END ovs\n')
    for tag in ('a\nb', '', 'with space', 'x' * 65):
        expect_error(client(sb, 'WriteManagedBlock', 's:interfaces', f's:{tag}', 's:x',
                            user='alopex-ovs'), 'org.alopex.Error.InvalidArgument', 'tag')
    expect_error(client(sb, 'WriteManagedBlock', 's:nope', 's:ovs', 's:x', user='alopex-ovs'), NA)
    expect_error(client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', 's:x',
                        user='alopex-dns'), NA)
    h.check_eq(read_bytes(blk), b'# BEGIN ovs\n# END ovs\n', 'interfaces unchanged')


@tap.test('missing, duplicated or misordered markers: BadMarkers, file unchanged')
def _(sb):
    blk = sb.path('targets', 'interfaces')
    cases = [b'auto lo\niface lo inet loopback\n',
             b'# BEGIN ovs\nx\n# BEGIN ovs\n# END ovs\n',
             b'# BEGIN ovs\n# END ovs\n# END ovs\n',
             b'# END ovs\n# BEGIN ovs\n',
             b'# BEGIN ovs\n',
             b'# BEGIN ovsx\n# END ovs\n']
    for original in cases:
        write_bytes(blk, original)
        st = os.stat(blk)
        out = client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', 's:auto vi100\n',
                     user='alopex-ovs')
        expect_error(out, 'org.alopex.Error.BadMarkers')
        h.check_eq(read_bytes(blk), original, f'file after {out}')
        h.check_eq(os.stat(blk).st_ino, st.st_ino, 'not even rewritten')


@tap.test('a managed block edit keeps every other byte of the file')
def _(sb):
    blk = sb.path('targets', 'interfaces')
    head = (b'# managed by hand\r\nauto lo\niface lo inet loopback\n\t  trailing  \n'
            b'\xc3\xa9t\xc3\xa9 # BEGIN ovs (not a marker)\n')
    tail = b'\nsource /etc/network/interfaces.d/*\n\n\n# no final newline'
    write_bytes(blk, head + b'# BEGIN ovs\nold 1\nold 2\n# END ovs' + tail)
    body = 'auto vi100\nallow-vmbr0 vi100\niface vi100 inet manual'
    h.check_eq(client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', f's:{body}',
                      user='alopex-ovs'), '', 'write block')
    want = head + b'# BEGIN ovs\n' + body.encode() + b'\n# END ovs' + tail
    h.check_eq(read_bytes(blk), want, 'file after the block edit')
    h.check_eq(client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', 's:',
                      user='alopex-ovs'), '', 'empty block')
    h.check_eq(read_bytes(blk), head + b'# BEGIN ovs\n# END ovs' + tail, 'emptied block')
    rec = ledger_records(sb)[-1]
    h.check_eq((rec['actor'], rec['action']), ('alopex-ovs', 'broker.WriteManagedBlock'), 'ledger')


@tap.test('OpenOvsdb: a JSON-RPC list_dbs through the fd reaches ovsdb-server')
def _(sb):
    if sb.ovsdb is None:
        raise h.Skip('openvswitch-switch (ovsdb-server) is not installed')
    req = json.dumps({'method': 'list_dbs', 'params': [], 'id': 0})
    out = client(sb, 'OpenOvsdb', user='alopex-ovs', opts=['--fd-exchange', req])
    kind, _, body = out.partition('\n')
    h.check_eq(kind, 'fd socket', 'fd type')
    reply = json.loads(body)
    h.check_eq((reply.get('id'), reply.get('error')), (0, None), f'reply {reply}')
    h.check('Open_vSwitch' in reply['result'], f'result {reply["result"]}')
    expect_error(client(sb, 'OpenOvsdb', user='alopex-dns'), NA)
    expect_error(client(sb, 'OpenOvsdb', user='alopex-slirp'), NA)


@tap.test('OpenOvsBridge: the fd is connected to BRIDGE.mgmt beside the ovsdb socket; bad names and other '
          'callers refused')
def _(sb):
    mgmt = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.makedirs(sb.path('ovs'), exist_ok=True)
    mgmt.bind(sb.path('ovs', 'br0.mgmt'))
    os.chmod(sb.path('ovs', 'br0.mgmt'), 0o600)   # root's alone, as ovs-vswitchd's
    mgmt.listen(1)

    def answer():
        c, _ = mgmt.accept()
        c.recv(100)
        c.sendall(b'{"bridge": "br0"}')
        c.close()
    t = threading.Thread(target=answer, daemon=True)
    t.start()
    out = client(sb, 'OpenOvsBridge', 's:br0', user='alopex-ovs', opts=['--fd-exchange', 'hello'])
    kind, _, body = out.partition('\n')
    h.check_eq(kind, 'fd socket', 'fd type')
    h.check_eq(json.loads(body), {'bridge': 'br0'}, 'reached the listener')
    t.join(10)
    for bad in ('..', 'a/b', '', 'x' * 16, 'br 0'):
        expect_error(client(sb, 'OpenOvsBridge', f's:{bad}', user='alopex-ovs'), 'org.alopex.Error.InvalidArgument')
    expect_error(client(sb, 'OpenOvsBridge', 's:br0', user='alopex-dns'), NA)
    expect_error(client(sb, 'OpenOvsBridge', 's:nosuch', user='alopex-ovs'), 'org.alopex.Error.IOError')
    mgmt.close()
    h.check_eq(ledger_records(sb)[-1]['action'], 'broker.OpenOvsBridge', 'recorded')


@tap.test('Record is stamped with the caller; others and bad actions are refused')
def _(sb):
    h.check_eq(client(sb, 'Record', 's:link.test', 's:details with "quotes" é\n',
                      user='alopex-link'), '', 'Record as alopex-link')
    rec = ledger_records(sb)[-1]
    h.check_eq((rec['actor'], rec['action'], rec['details']),
               ('alopex-link', 'link.test', 'details with "quotes" é\n'), 'record')
    before = len(ledger_records(sb))
    expect_error(client(sb, 'Record', 's:link.test', 's:x', user='alopex-fw'), NA)
    for action in ('', 'has space', 'new\nline', 'x' * 65):
        expect_error(client(sb, 'Record', f's:{action}', 's:x', user='alopex-link'),
                     'org.alopex.Error.InvalidArgument')
    h.check_eq(len(ledger_records(sb)), before, 'refused Records add nothing')


@tap.test('an unknown id and a forbidden one get the same error, message alike')
def _(sb):
    for user, method, args in (('alopex-fw', 'WriteManagedFile', ['ay:x']),
                               ('alopex-dns', 'WriteManagedBlock', ['s:ovs', 's:auto x'])):
        known_id = 'resolv.conf' if method == 'WriteManagedFile' else 'interfaces'
        known = client(sb, method, f's:{known_id}', *args, user=user)
        unknown = client(sb, method, 's:no-such-id', *args, user=user)
        expect_error(known, NA)
        expect_error(unknown, NA)
        h.check_eq(known.replace(known_id, 'ID'), unknown.replace('no-such-id', 'ID'),
                   f'{method}: same name, same message shape')


@tap.test('WriteManagedBlock: the tag is the configured one; foreign markers are refused')
def _(sb):
    blk = sb.path('targets', 'interfaces')
    original = (b'auto lo\n# BEGIN ovs\nauto vi1\n# END ovs\n'
                b'# BEGIN admin\niface eth0 inet manual\n# END admin\n')
    write_bytes(blk, original)
    n = len(ledger_records(sb))
    # Another block's tag, with its markers right there in the file: still refused.
    expect_error(client(sb, 'WriteManagedBlock', 's:interfaces', 's:admin', 's:auto x',
                        user='alopex-ovs'), 'org.alopex.Error.InvalidArgument',
                 "tag: block 'interfaces' has tag 'ovs', not 'admin'")
    # Planting the admin block's markers (which would break it for good), in any form.
    for body in ('auto x\n# BEGIN admin\n', '# END admin', '#end admin', '  # BEGIN new'):
        expect_error(client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', f's:{body}',
                            user='alopex-ovs'), 'org.alopex.Error.InvalidArgument', 'contents')
    h.check_eq(read_bytes(blk), original, 'interfaces unchanged')
    h.check_eq(len(ledger_records(sb)), n, 'no ledger record for refusals')


@tap.test('WriteManagedBlock: nothing ifupdown would run as root gets into interfaces')
def _(sb):
    blk = sb.path('targets', 'interfaces')
    original = b'auto lo\niface lo inet loopback\n\n# BEGIN ovs\n# END ovs\n'
    write_bytes(blk, original)
    n = len(ledger_records(sb))
    pwned = sb.path('tmp', 'pwned')
    for body in (f'iface vi1 inet manual\n    up touch {pwned}',
                 f'iface vi1 inet manual\n    post-up touch {pwned}',
                 f'iface vi1 inet manual\n    pre-down touch {pwned}',
                 'iface vi1 inet manual\n    ovs_extra set bridge vmbr0 x=$(id)',
                 'iface vi1 inet manual\n    ovs_ports -i/tmp/evil',
                 'source /tmp/evil.d/*', 'source-directory /tmp/evil.d',
                 f'    up touch {pwned}',
                 'iface vi1 inet manual \\\n up id'):
        out = client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', f's:{body}',
                     user='alopex-ovs')
        expect_error(out, 'org.alopex.Error.InvalidArgument', 'contents: line ')
    h.check_eq(read_bytes(blk), original, 'interfaces unchanged')
    h.check_eq(len(ledger_records(sb)), n, 'no ledger record for refusals')
    body = 'auto vi100\niface vi100 inet manual\n    ovs_type OVSPort\n    ovs_bridge vmbr0\n'
    h.check_eq(client(sb, 'WriteManagedBlock', 's:interfaces', 's:ovs', f's:{body}',
                      user='alopex-ovs'), '', 'an OVSPort stanza')
    h.check_eq(read_bytes(blk), original.replace(b'# END', body.encode() + b'# END'),
               'interfaces with the stanza')


@tap.test('the shipped unit allows serial lines only (no char-pts)')
def _(sb):
    unit = sb.build_path('units/alopex-brokerd.service')
    if not os.path.exists(unit):
        unit = sb.source_path('units/alopex-brokerd.service.in')
    with open(unit) as f:
        allow = [line.split('=', 1)[1].split()[0] for line in f.read().splitlines()
                 if line.startswith('DeviceAllow=')]
    h.check_eq(sorted(allow), ['char-ttyACM', 'char-ttyS', 'char-ttyUSB'], 'DeviceAllow=')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
