#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-linkd's checkpoints: changes made after CheckpointCreate are put back when the
checkpoint is not confirmed in time (by linkd's own timer, the caller long gone) or on
CheckpointRollback, and kept when confirmed; polkit (org.alopex.checkpoint) refuses an
unprivileged user; bad arguments are named. A pending checkpoint outlives kill -9 of
linkd (its file in $STATE_DIRECTORY): overdue at the restart it is rolled back before
linkd's Startup ends, otherwise at its deadline. With a routing daemon's full table,
linkd answers calls while it reads the routes, and a checkpoint call made then waits for
them. Checked with `ip -j`."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'daemon'))
import alopex_harness as h  # noqa: E402
from linkd_env import (MANAGER, ROOT, SERVICE, dbus_send, expect_error, expect_ok, ifindex, ip,  # noqa: E402
                       full_table, ip_j, kill_linkd, setup, start_linkd, veth)

tap = h.Tap()
CP = 'org.alopex.Link1.Checkpoints'


def cp_call(sb, method, *args, user=None):
    return dbus_send(sb, method, *args, user=user, iface=CP)


def create(sb, timeout):
    ok, name, out = cp_call(sb, 'CheckpointCreate', f'uint32:{timeout}')
    h.check(ok, f'CheckpointCreate: {name} {out}')
    path = out.split('object path "')[1].split('"')[0]
    h.check(path.startswith('/org/alopex/Link1/checkpoint/'), path)
    return path


def view(sb, dev):
    link = ip_j(sb, 'link', 'show', 'dev', dev)[0]
    addrs = sorted(f"{a['local']}/{a['prefixlen']}" for a in ip_j(sb, 'addr', 'show', 'dev', dev)[0]['addr_info']
                   if a.get('scope') == 'global')
    routes = sorted(r['dst'] for r in ip_j(sb, 'route', 'show', 'dev', dev) if r.get('protocol') in ('boot', 'static'))
    return {'up': 'UP' in link['flags'], 'mtu': link['mtu'], 'addrs': addrs, 'routes': routes}


def prepare(sb, dev, net):
    veth(sb, dev, dev + 'p')
    ip(sb, 'link', 'set', dev, 'up')
    ip(sb, 'link', 'set', dev + 'p', 'up')
    ip(sb, 'addr', 'add', f'10.{net}.0.1/24', 'dev', dev)
    ip(sb, 'route', 'add', f'10.{net}.9.0/24', 'via', f'10.{net}.0.254', 'dev', dev)
    return ifindex(sb, dev), view(sb, dev)


def change(sb, idx, net):
    expect_ok(dbus_send(sb, 'RemoveAddress', f'int32:{idx}', f'string:10.{net}.0.1/24'), 'RemoveAddress')
    expect_ok(dbus_send(sb, 'AddAddress', f'int32:{idx}', f'string:10.{net}.5.1/24'), 'AddAddress')
    expect_ok(dbus_send(sb, 'AddRoute', f'string:10.{net}.8.0/24', f'string:10.{net}.5.254',
                        f'int32:{idx}', 'uint32:0', 'uint32:0'), 'AddRoute')
    expect_ok(dbus_send(sb, 'SetMtu', f'int32:{idx}', 'uint32:1300'), 'SetMtu')
    expect_ok(dbus_send(sb, 'SetLinkDown', f'int32:{idx}'), 'SetLinkDown')


@tap.test('not confirmed in time: linkd puts links, addresses and routes back by itself')
def _(sb):
    idx, before = prepare(sb, 'ck0', 11)
    create(sb, 2)
    change(sb, idx, 11)
    h.check(view(sb, 'ck0') != before, 'the changes took effect')
    h.wait_until(lambda: view(sb, 'ck0') == before, 15, 0.05, f'ck0 restored to {before}')


@tap.test('CheckpointRollback restores at once; a rolled-back checkpoint is gone')
def _(sb):
    idx, before = prepare(sb, 'ck1', 13)
    path = create(sb, 600)
    change(sb, idx, 13)
    ok, name, text = cp_call(sb, 'CheckpointRollback', f'objpath:{path}')
    h.check(ok, f'CheckpointRollback: {name} {text}')
    h.check_eq(view(sb, 'ck1'), before, 'restored when the call returned')
    expect_error(cp_call(sb, 'CheckpointConfirm', f'objpath:{path}'), 'org.alopex.Error.NoSuchId')


@tap.test('confirmed: the changes stay past the deadline')
def _(sb):
    idx, before = prepare(sb, 'ck2', 15)
    path = create(sb, 1)
    expect_ok(dbus_send(sb, 'SetMtu', f'int32:{idx}', 'uint32:1280'), 'SetMtu')
    ok, name, text = cp_call(sb, 'CheckpointConfirm', f'objpath:{path}')
    h.check(ok, f'CheckpointConfirm: {name} {text}')
    deadline = time.monotonic() + 2.5   # past the 1 s deadline: nothing may come back
    while time.monotonic() < deadline:
        h.check_eq(view(sb, 'ck2')['mtu'], 1280, 'mtu after confirming')
        time.sleep(0.1)


@tap.test('alopexctl checkpoint create / rollback / confirm')
def _(sb):
    ctl = sb.build_path('tools/alopexctl/alopexctl')
    idx, before = prepare(sb, 'ck3', 17)
    rc, out, err = sb.run([ctl, 'checkpoint', 'create', '600'])
    h.check_eq(rc, 0, err)
    path = out.strip()
    h.check(path.startswith('/org/alopex/Link1/checkpoint/'), out)
    change(sb, idx, 17)
    rc, _, err = sb.run([ctl, 'checkpoint', 'rollback', path])
    h.check_eq(rc, 0, err)
    h.check_eq(view(sb, 'ck3'), before, 'restored')
    rc, _, err = sb.run([ctl, 'checkpoint', 'confirm', path])
    h.check_eq(rc, 3, err)
    h.check('org.alopex.Error.NoSuchId' in err, err)
    rc, _, err = sb.run([ctl, 'checkpoint', 'create', 'soon'])
    h.check_eq(rc, 2, err)


def netdev_view(sb, name):
    """A netdev as `ip -d -j` shows it, without what changes when it is made again; None
    when it does not exist. One `ip` call reads link and addresses at once: with two, linkd
    could delete the link between them (a rollback does) and the second would fail."""
    rc, out, _ = sb.run(['ip', '-j', '-d', 'addr', 'show', 'dev', name])
    if rc != 0 or not out.strip():
        return None
    link = json.loads(out)[0]
    addrs = sorted(f"{a['local']}/{a['prefixlen']}" for a in link.get('addr_info', [])
                   if a.get('scope') == 'global')
    return {'kind': link['linkinfo']['info_kind'], 'stp': link['linkinfo'].get('info_data', {}).get('stp_state'),
            'up': 'UP' in link['flags'], 'mtu': link['mtu'], 'addrs': addrs}


def master_of(sb, dev):
    return ip_j(sb, 'link', 'show', 'dev', dev)[0].get('master')


@tap.test('netdevs: deleted through linkd come back with ports and addresses; created through linkd go')
def _(sb):
    rc, _, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                           'ckbr0', 'bridge', '1', 'stp', 'b', 'true')
    h.check_eq(rc, 0, f'CreateNetdev ckbr0: {err}')
    veth(sb, 'ck5', 'ck5p')
    veth(sb, 'ck6', 'ck6p')
    ip(sb, 'link', 'set', 'ck5', 'master', 'ckbr0')
    ip(sb, 'link', 'set', 'ckbr0', 'mtu', '1400', 'up')
    ip(sb, 'addr', 'add', '10.19.0.1/24', 'dev', 'ckbr0')
    ip(sb, 'route', 'add', '10.19.7.0/24', 'via', '10.19.0.254', 'dev', 'ckbr0', 'proto', 'static')
    rc, _, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                           'ckvx0', 'veth', '1', 'peer', 's', 'ckvy0')
    h.check_eq(rc, 0, f'CreateNetdev ckvx0: {err}')
    before = netdev_view(sb, 'ckbr0')
    h.check_eq(before, {'kind': 'bridge', 'stp': 1, 'up': True, 'mtu': 1400, 'addrs': ['10.19.0.1/24']},
               'ckbr0 as prepared')
    path = create(sb, 600)

    expect_ok(dbus_send(sb, 'DeleteNetdev', 'string:ckbr0'), 'DeleteNetdev ckbr0')
    expect_ok(dbus_send(sb, 'DeleteNetdev', 'string:ckvx0'), 'DeleteNetdev ckvx0')
    rc, _, err = sb.busctl('call', SERVICE, ROOT, MANAGER, 'CreateNetdev', 'ssa{sv}',
                           'cknew0', 'bridge', '0')
    h.check_eq(rc, 0, f'CreateNetdev cknew0: {err}')
    ip(sb, 'link', 'add', 'ckforeign0', 'type', 'bridge')      # another tool's: left alone
    ip(sb, 'link', 'set', 'ck6', 'master', 'cknew0')
    h.check_eq(netdev_view(sb, 'ckbr0'), None, 'ckbr0 deleted')

    ok, name, text = cp_call(sb, 'CheckpointRollback', f'objpath:{path}')
    h.check(ok, f'CheckpointRollback: {name} {text}')
    h.check_eq(netdev_view(sb, 'ckbr0'), before, 'ckbr0 created again, as it was')
    h.check_eq(master_of(sb, 'ck5'), 'ckbr0', 'ck5 back in ckbr0')
    routes = [r['dst'] for r in ip_j(sb, 'route', 'show', 'dev', 'ckbr0') if r.get('protocol') == 'static']
    h.check_eq(routes, ['10.19.7.0/24'], 'ckbr0 static route restored')
    h.check_eq((netdev_view(sb, 'ckvx0') or {}).get('kind'), 'veth', 'ckvx0 created again')
    h.check_eq(ip_j(sb, 'link', 'show', 'dev', 'ckvy0')[0]['ifname'], 'ckvy0', 'with its peer')
    h.check_eq(netdev_view(sb, 'cknew0'), None, 'cknew0 (created after the checkpoint) deleted')
    h.check_eq(master_of(sb, 'ck6'), None, 'ck6 released with cknew0')
    h.check_eq((netdev_view(sb, 'ckforeign0') or {}).get('kind'), 'bridge', 'the foreign bridge kept')


@tap.test('profiles: a rollback puts the profile set of the checkpoint back in force')
def _(sb):
    links = os.path.join(sb.config_dir, 'links')
    os.makedirs(links, exist_ok=True)
    with open(os.path.join(links, '20-ckold.toml'), 'w') as f:
        f.write('[netdev]\nname = "ckold0"\nkind = "bridge"\n')
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')
    h.wait_until(lambda: netdev_view(sb, 'ckold0') is not None, 10, 0.05, 'ckold0 from its profile')
    path = create(sb, 600)
    os.unlink(os.path.join(links, '20-ckold.toml'))
    with open(os.path.join(links, '30-cknew.toml'), 'w') as f:
        f.write('[netdev]\nname = "ckprof0"\nkind = "bridge"\n')
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')
    h.wait_until(lambda: netdev_view(sb, 'ckprof0') is not None and netdev_view(sb, 'ckold0') is None,
                 10, 0.05, 'the new profile set applied')
    ok, name, text = cp_call(sb, 'CheckpointRollback', f'objpath:{path}')
    h.check(ok, f'CheckpointRollback: {name} {text}')
    h.wait_until(lambda: netdev_view(sb, 'ckprof0') is None and netdev_view(sb, 'ckold0') is not None,
                 10, 0.05, 'the profile set of the checkpoint applied again')
    # It stays that way: the profiles in force do not undo the rollback.
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        h.check(netdev_view(sb, 'ckprof0') is None, 'ckprof0 came back')
        time.sleep(0.1)
    # The next Reload reads the files again.
    expect_ok(dbus_send(sb, 'Reload'), 'Reload')
    h.wait_until(lambda: netdev_view(sb, 'ckprof0') is not None, 10, 0.05, 'files read at the next Reload')


@tap.test('refused for an unprivileged user; bad arguments named')
def _(sb):
    expect_error(cp_call(sb, 'CheckpointCreate', 'uint32:60', user='alopex-test'), 'org.alopex.Error.NotAuthorized')
    expect_error(cp_call(sb, 'CheckpointCreate', 'uint32:0'), 'org.alopex.Error.InvalidArgument', 'timeout_s')
    expect_error(cp_call(sb, 'CheckpointCreate', 'uint32:100000'), 'org.alopex.Error.InvalidArgument', 'timeout_s')
    expect_error(cp_call(sb, 'CheckpointRollback', 'objpath:/org/alopex/Link1/checkpoint/999'),
                 'org.alopex.Error.NoSuchId')


def checkpoint_files(sb):
    return sorted(os.path.basename(f) for f in glob.glob(os.path.join(sb.state_dir, 'checkpoint-*.json')))


def wait_past(deadline, what):
    """Waits until the monotonic clock passes `deadline` (a checkpoint's deadline is time)."""
    h.wait_until(lambda: time.monotonic() > deadline, deadline - time.monotonic() + 5, 0.05, what)


@tap.test('kill -9, restarted after the deadline: rolled back once the first dump is in, before Startup ends')
def _(sb):
    idx, before = prepare(sb, 'ck7', 21)
    t0 = time.monotonic()
    path = create(sb, 2)
    h.check_eq(checkpoint_files(sb), [f'checkpoint-{path.rsplit("/", 1)[1]}.json'], 'the checkpoint is on disk')
    change(sb, idx, 21)
    changed = view(sb, 'ck7')
    h.check(changed != before, 'the changes took effect')
    kill_linkd(sb)
    wait_past(t0 + 2.5, 'the deadline, with linkd gone')
    h.check_eq(view(sb, 'ck7'), changed, 'nothing rolled back while linkd was gone')
    start_linkd(sb)
    h.check_eq(view(sb, 'ck7'), before, 'rolled back when the restarted linkd had started')
    h.check_eq(checkpoint_files(sb), [], 'the checkpoint file is gone')
    expect_error(cp_call(sb, 'CheckpointConfirm', f'objpath:{path}'), 'org.alopex.Error.NoSuchId')


@tap.test('kill -9, restarted before the deadline: the checkpoint waits for it again, then rolls back')
def _(sb):
    timeout = 10
    idx, before = prepare(sb, 'ck8', 23)
    t0 = time.monotonic()
    create(sb, timeout)
    change(sb, idx, 23)
    changed = view(sb, 'ck8')
    kill_linkd(sb)
    start_linkd(sb)
    h.check(time.monotonic() < t0 + timeout - 1, f'the restart took {time.monotonic() - t0:.1f} s: too slow to test')
    h.check_eq(view(sb, 'ck8'), changed, 'not rolled back before its deadline')
    h.wait_until(lambda: view(sb, 'ck8') == before, t0 + timeout + 15 - time.monotonic(), 0.05,
                 'ck8 rolled back by the re-armed timer')
    h.check(time.monotonic() >= t0 + timeout, f'rolled back {t0 + timeout - time.monotonic():.2f} s early')
    h.wait_until(lambda: checkpoint_files(sb) == [], 5, 0.05, 'the checkpoint file removed')


@tap.test('kill -9, restarted, then confirmed: the changes stay past the deadline')
def _(sb):
    idx, before = prepare(sb, 'ck9', 25)
    t0 = time.monotonic()
    path = create(sb, 4)
    expect_ok(dbus_send(sb, 'SetMtu', f'int32:{idx}', 'uint32:1280'), 'SetMtu')
    kill_linkd(sb)
    start_linkd(sb)
    ok, name, text = cp_call(sb, 'CheckpointConfirm', f'objpath:{path}')
    h.check(ok, f'CheckpointConfirm after the restart: {name} {text}')
    h.check_eq(checkpoint_files(sb), [], 'the checkpoint file is gone')
    while time.monotonic() < t0 + 5:   # past the 4 s deadline: nothing may come back
        h.check_eq(view(sb, 'ck9')['mtu'], 1280, 'mtu after confirming')
        time.sleep(0.1)


def call_at_ready(sb, *call):
    """Starts linkd with alopex-test-client already connected to the bus, which makes
    `call` (IFACE METHOD ARG...) on linkd's manager the moment READY=1 arrives (the name is
    owned by then). Returns (its output, whether linkd's Startup had not ended when the
    answer came: its STATUS= "following N links" had not been sent)."""
    cl = subprocess.Popen([sb.build_path('tests/harness/alopex-test-client'), '--wait-stdin', SERVICE, ROOT, *call],
                          env=sb.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        h.check_eq(cl.stdout.readline().split()[:1], ['ready'], 'the client is connected')
        sb.linkd_starts = getattr(sb, 'linkd_starts', 0) + 1
        sb.linkd = p = sb.start_daemon('daemons/linkd/alopex-linkd', name=f'alopex-linkd-{sb.linkd_starts}',
                                       notify=True, env=sb.env({'ALOPEX_LOG_LEVEL': 'debug'}),
                                       watchdog_usec=1000000)
        p.notify.wait_for('READY', '1', timeout=20, proc=p)
        cl.stdin.write('\n')
        cl.stdin.flush()
        out, _ = cl.communicate(timeout=30)
    finally:
        if cl.poll() is None:
            cl.kill()
    h.check_eq(cl.returncode, 0, f'{call[1]}: {out}')
    starting = not any(m[2]['STATUS'].startswith('following ') for m in p.notify.find('STATUS'))
    return out.strip(), starting


@tap.test('with a full routing table: Version is answered while the routes are read (Startup)')
def _(sb):
    prepare(sb, 'ck10', 27)
    kill_linkd(sb)
    full_table(sb, 27)
    for attempt in range(3):   # a loaded machine may delay the call past the dump
        if attempt:
            h.diag(f'attempt {attempt - 1}: answered after Startup ended; again')
            kill_linkd(sb)
        out, starting = call_at_ready(sb, MANAGER, 'Version')
        h.check(out, 'a version')
        if starting:
            break
    h.check(starting, 'Version answered while linkd was reading the routes')


@tap.test('CheckpointCreate while linkd is starting waits for the routes: a rollback keeps the boot routes')
def _(sb):
    # A checkpoint taken from a state without the routes would have its rollback delete
    # every static and boot route, and be logged before the end of Startup.
    before = view(sb, 'ck10')
    kill_linkd(sb)
    try:
        path, starting = call_at_ready(sb, CP, 'CheckpointCreate', 'u:1')
        h.check(not starting, 'answered once Startup had ended')
        with open(sb.linkd.log_path, errors='replace') as f:
            log = f.read()
        started, created = log.find('started: '), log.find(f'{path}: created')
        h.check(0 <= started < created, f'created after Startup ended (log at {started}, {created})')
        h.wait_until(lambda: checkpoint_files(sb) == [], 15, 0.05, 'rolled back at its deadline')
        h.check_eq(view(sb, 'ck10'), before, 'the boot route and the address are still there')
    finally:
        kill_linkd(sb)
        ip(sb, 'route', 'flush', 'proto', '186')
        start_linkd(sb)


h.main(tap, setup)
