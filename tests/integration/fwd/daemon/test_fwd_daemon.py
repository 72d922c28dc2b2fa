#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-fwd as a daemon: start over a firewall.toml (READY=1 after the first full apply,
the name owned by then), its live introspection against ipc/org.alopex.Firewall1.xml,
its properties against `nft -j` and `ip -j`, zone addresses following `ip addr`, runtime
rules (element- and rule-shaped) checked with `nft -j list table inet alopex`, named
errors for bad ids, bad specs and unprivileged callers with the ruleset unchanged, Reload
and SIGHUP (an invalid file refused with file:line, nothing changed; an unauthorized
Reload refused before the file is opened), panic, interface assignments, expiry, a restart
after kill -9 with the same table and nothing duplicated, damaged runtime files recovered
from failing closed, Version answered while polkitd is stopped with a check pending, and
a foreign table left intact through all of it. fwd runs as root
in the test's namespace with polkitd; the table stays when it stops."""
import ctypes
import json
import os
import signal
import struct
import sys
import time

import alopex_dbus as bus
import alopex_harness as h
import alopex_kernel as k
from fwd_env import (CONFIG, E, IFACE, ROOT, SERVICE, UINT64_MAX, add_rule, call, dbus_send,
                     elements, expect_error, expect_ok, ip, maps, nft_j, normalized, prop,
                     ruleset, rules, runtime_rules, sets, setup, start_fwd,
                     start_fwd_as_fw_user, table, write_config)

tap = h.Tap()


def text_of(objs):
    return json.dumps(objs)


def wait_gen_above(sb, gen, timeout=10):
    return h.wait_until(lambda: prop(sb, 'Generation') > gen, timeout, 0.02,
                        f'Generation above {gen}')


def foreign_intact(sb, when):
    now = nft_j(sb, 'list', 'table', 'ip', 'foreign')
    h.check_eq(normalized(now), normalized(sb.foreign_before), f'table ip foreign {when}')


@tap.test('READY=1 after the first apply with the name owned; Version; the table is ours')
def _(sb):
    p = sb.fwd
    h.check(p.name_owned_at_ready, 'org.alopex.Firewall1 was not owned when READY=1 arrived')
    status = [m[2]['STATUS'] for m in p.notify.find('STATUS')]
    h.check(any('zones' in s for s in status), f'STATUS lines: {status}')
    p.notify.wait_for('WATCHDOG', '1', timeout=10, proc=p)
    rc, data, err = call(sb, 'Version')
    h.check_eq(rc, 0, f'Version ({err})')
    h.check(data and data[0], f'Version: {data}')
    t = [o['table'] for o in nft_j(sb, 'list', 'tables') if 'table' in o]
    ours = [x for x in t if x['family'] == 'inet' and x['name'] == 'alopex']
    h.check_eq(len(ours), 1, f'tables: {t}')
    flags = ours[0].get('flags', [])
    # Debian 12's nft (1.0.6) predates the persist flag and prints it as "unknown".
    h.check('owner' in flags and ('persist' in flags or 'unknown' in flags), f'table flags {flags}')
    h.check(rules(sb), 'the table has rules')
    foreign_intact(sb, 'after start')


@tap.test('live introspection equals ipc/org.alopex.Firewall1.xml')
def _(sb):
    bus.check_introspection(sb, SERVICE, ROOT, IFACE, 'ipc/org.alopex.Firewall1.xml')


@tap.test('properties: zones, rules, default zone, interfaces and addresses against ip -j')
def _(sb):
    zones = prop(sb, 'Zones')
    h.check_eq([z[0] for z in zones], ['wan', 'lan'], 'zones in file order')
    wan = zones[0]
    # (name, patterns, input, forward, output, masquerade): the XML's a(sassssb).
    h.check_eq(wan, ['wan', ['tw*'], 'drop', 'drop', 'accept', True], 'zone wan')
    h.check_eq(zones[1], ['lan', ['tl*'], 'accept', 'drop', 'accept', False], 'zone lan')
    h.check_eq(prop(sb, 'DefaultZone'), 'lan', 'DefaultZone')
    rs = prop(sb, 'Rules')
    h.check_eq([r[0] for r in rs], ['wan'] * 4, f'rules and the forward of wan: {rs}')
    h.check_eq(rs[0][2], 'management console', 'comment of the first rule')
    h.check('dport=22,9090' in rs[0][1] and 'saddr=@management' in rs[0][1], f'spec {rs[0][1]}')
    h.check('to=10.1.0.5:80' in rs[3][1], f'the forward: {rs[3]}')
    ifs = prop(sb, 'Interfaces')
    # Every interface of the namespace is in a zone: tw* in wan, the rest (lo, tl0) in the
    # default zone lan.
    links = [l['ifname'] for l in k.ip_j(sb, 'link')]
    h.check_eq(ifs, {n: ('wan' if n.startswith('tw') else 'lan') for n in links}, 'Interfaces')
    addrs = prop(sb, 'ZoneAddresses')
    want = {}
    for l in k.ip_j(sb, 'addr'):
        for a in l.get('addr_info', []):
            want.setdefault(ifs[l['ifname']], set()).add(a['local'])
    h.check_eq({z: set(v) for z, v in addrs.items()}, want, 'ZoneAddresses (link-local included)')
    h.check(prop(sb, 'Generation') >= 1, 'Generation counts the first apply')
    hist = prop(sb, 'LatencyHistogram')
    h.check_eq([b[0] for b in hist], [50, 100, 200, 500, 1000, 2000, 5000, 10000, UINT64_MAX],
               'histogram bounds')
    h.check_eq(prop(sb, 'LastError'), '', 'LastError')
    h.check_eq(prop(sb, 'Panic'), False, 'Panic')


def zone_set_has(sb, zone, addr):
    fam = '6' if ':' in addr else '4'
    s = sets(sb).get(f'{zone}_addr{fam}')
    h.check(s is not None, f'set {zone}_addr{fam} in {list(sets(sb))}')
    return any(addr in e for e in elements(s))


@tap.test('an address added and removed by ip on a zone interface follows into the zone set')
def _(sb):
    gen = prop(sb, 'Generation')
    count = sum(b[1] for b in prop(sb, 'LatencyHistogram'))
    ip(sb, 'addr', 'add', '198.51.100.20/24', 'dev', 'tw0')
    h.wait_until(lambda: zone_set_has(sb, 'wan', '198.51.100.20'), 5, 0.01, 'address in wan_addr4')
    h.check(not zone_set_has(sb, 'lan', '198.51.100.20') if 'lan_addr4' in sets(sb) else True,
            'not in lan')
    ip(sb, 'addr', 'add', '2001:db8:5::20/64', 'dev', 'tw0', 'nodad')
    h.wait_until(lambda: zone_set_has(sb, 'wan', '2001:db8:5::20'), 5, 0.01, 'address in wan_addr6')
    h.wait_until(lambda: '198.51.100.20' in prop(sb, 'ZoneAddresses').get('wan', []), 5, 0.02,
                 'ZoneAddresses')
    ip(sb, 'addr', 'del', '198.51.100.20/24', 'dev', 'tw0')
    h.wait_until(lambda: not zone_set_has(sb, 'wan', '198.51.100.20'), 5, 0.01, 'address gone')
    h.check(prop(sb, 'Generation') >= gen + 3, 'one generation per change')
    hist = prop(sb, 'LatencyHistogram')
    h.check(sum(b[1] for b in hist) >= count + 3, f'latency recorded: {hist}')
    h.diag('latency buckets (us, count): ' + ', '.join(f'{b[0] if b[0] != UINT64_MAX else "inf"}:{b[1]}'
                                                     for b in hist if b[1]))
    foreign_intact(sb, 'after address changes')


@tap.test('an IPv6 address whose DAD failed is not in the zone set (another node has it)')
def _(sb):
    # tw0 (wan) holds 2001:db8:d::1 first; the same address on its veth peer tl0 (lan)
    # fails DAD, answered by tw0.
    ip(sb, 'addr', 'add', '2001:db8:d::1/64', 'dev', 'tw0', 'nodad')
    h.wait_until(lambda: zone_set_has(sb, 'wan', '2001:db8:d::1'), 5, 0.01, 'address in wan_addr6')
    ip(sb, 'addr', 'add', '2001:db8:d::1/64', 'dev', 'tl0')

    def dadfailed():
        out = k.ip_j(sb, 'addr', 'show', 'dev', 'tl0')
        return any(a.get('local') == '2001:db8:d::1' and a.get('dadfailed')
                   for a in out[0].get('addr_info', []))
    h.wait_until(dadfailed, 15, 0.05, 'DAD fails for 2001:db8:d::1 on tl0 (ip -j)')
    # While DAD ran the address was tentative (and in lan's set); the failure removes it.
    h.wait_until(lambda: not zone_set_has(sb, 'lan', '2001:db8:d::1'), 5, 0.01, 'not in lan_addr6')
    h.check('2001:db8:d::1' not in prop(sb, 'ZoneAddresses').get('lan', []), 'not in lan ZoneAddresses')
    h.check(zone_set_has(sb, 'wan', '2001:db8:d::1'), 'still in wan_addr6 (tw0 has it)')
    ip(sb, 'addr', 'del', '2001:db8:d::1/64', 'dev', 'tl0')
    ip(sb, 'addr', 'del', '2001:db8:d::1/64', 'dev', 'tw0')
    h.wait_until(lambda: not zone_set_has(sb, 'wan', '2001:db8:d::1'), 5, 0.01, 'gone from wan')


@tap.test('a new interface joins its zone map; a renamed one moves; a removed one leaves')
def _(sb):
    ip(sb, 'link', 'add', 'tw9', 'type', 'veth', 'peer', 'name', 'tl9')
    h.wait_until(lambda: prop(sb, 'Interfaces').get('tw9') == 'wan', 5, 0.02, 'tw9 in wan')
    h.wait_until(lambda: 'tw9' in text_of(maps(sb)), 5, 0.02, 'tw9 in a verdict map')
    ip(sb, 'link', 'set', 'tw9', 'name', 'tl8')
    h.wait_until(lambda: prop(sb, 'Interfaces').get('tl8') == 'lan', 5, 0.02, 'tl8 in lan')
    h.wait_until(lambda: 'tw9' not in text_of(maps(sb)), 5, 0.02, 'tw9 gone from the maps')
    ip(sb, 'link', 'del', 'tl8')
    h.wait_until(lambda: 'tl8' not in prop(sb, 'Interfaces') and 'tl9' not in prop(sb, 'Interfaces'),
                 5, 0.02, 'gone')
    h.check('tl8' not in text_of(maps(sb)) and 'tl9' not in text_of(maps(sb)), 'maps clean')


def has_port(objs, port):
    return f'"{port}"' in text_of(objs) or f': {port}' in text_of(objs) or f':{port}' in text_of(objs)


@tap.test('AddRule (element- and rule-shaped), ListRuntimeRules, RemoveRule, checked with nft -j')
def _(sb):
    before = normalized(table(sb))
    gen = prop(sb, 'Generation')
    a = add_rule(sb, 'zone=wan proto=tcp dport=8443 saddr=198.51.100.0/24 action=accept', 0, 'for goal-456')
    lst = runtime_rules(sb)
    h.check(a in lst, f'{a} listed: {lst}')
    _, zone, spec, comment, exp, where = lst[a]
    h.check_eq((zone, comment, exp, where), ('wan', 'for goal-456', 0, 'element'), f'listing {lst[a]}')
    h.check('dport=8443' in spec, spec)
    rt = {n: s for n, s in sets(sb).items() if n.startswith('wan_rt4')}
    h.check(any('8443' in text_of(s.get('elem', [])) for s in rt.values()),
            f'8443 is an element of a wan_rt4 set: {rt}')
    h.check(prop(sb, 'Generation') > gen, 'generation counted')

    b = add_rule(sb, 'zone=wan proto=udp dport=5353 action=drop log=yes', 0, 'rule-shaped')
    h.check_eq(runtime_rules(sb)[b][5], 'rule', 'a logged rule lives as a rule')
    h.check(any('5353' in text_of(r) for r in rules(sb)), 'a rule with dport 5353')
    h.check(b > a, 'ids grow')

    expect_ok(dbus_send(sb, 'RemoveRule', f'uint64:{a}'), 'RemoveRule element')
    expect_ok(dbus_send(sb, 'RemoveRule', f'uint64:{b}'), 'RemoveRule rule')
    h.check_eq(runtime_rules(sb), {}, 'nothing listed')
    h.check_eq(normalized(table(sb)), before, 'the table is as before both rules')
    foreign_intact(sb, 'after runtime rules')


@tap.test('RemoveRule of an unknown id is org.alopex.Error.NoSuchId, nothing changed')
def _(sb):
    before = normalized(ruleset(sb))
    expect_error(dbus_send(sb, 'RemoveRule', 'uint64:987654'), E + 'NoSuchId', '987654')
    h.check_eq(normalized(ruleset(sb)), before, 'ruleset unchanged')


@tap.test('bad specs are InvalidArgument naming the key; the ruleset is unchanged')
def _(sb):
    before = normalized(ruleset(sb))
    gen = prop(sb, 'Generation')
    for spec, key in (('zone=wan proto=tcp dport=70000 action=accept', 'dport'),
                      ('zone=wan proto=tcp dport=0 action=accept', 'dport'),
                      ('zone=wan proto=tcp dport=80 saddr=300.1.1.0/24 action=accept', 'saddr'),
                      ('zone=wan proto=tcp dport=80 saddr=192.0.2.1/24 action=accept', 'saddr'),
                      ('zone=nope proto=tcp dport=80 action=accept', 'zone'),
                      ('zone=wan proto=tcp dport=80 saddr=@nope action=accept', 'saddr'),
                      ('zone=wan proto=tcp dport=80 action=maybe', 'action'),
                      ('zone=wan proto=tcp dport=80', 'action'),
                      ('zone=wan proto=sctp dport=80 action=accept', 'proto'),
                      ('zone=wan colour=blue action=accept', 'colour'),
                      ('garbage', 'spec')):
        expect_error(dbus_send(sb, 'AddRule', f'string:{spec}', 'uint32:0', 'string:'),
                     E + 'InvalidArgument', key)
    expect_error(dbus_send(sb, 'AddRule', 'string:zone=wan proto=tcp dport=80 action=accept',
                           'uint32:0', 'string:' + 'x' * 200), E + 'InvalidArgument', 'comment')
    expect_error(dbus_send(sb, 'SetInterfaceZone', 'string:tw0', 'string:nope'),
                 E + 'InvalidArgument', 'zone')
    expect_error(dbus_send(sb, 'SetInterfaceZone', 'string:a/b', 'string:wan'),
                 E + 'InvalidArgument', 'interface')
    h.check_eq(normalized(ruleset(sb)), before, 'ruleset unchanged')
    h.check_eq(prop(sb, 'Generation'), gen, 'no batch')
    h.check_eq(runtime_rules(sb), {}, 'no runtime rule')


@tap.test('an unprivileged caller is NotAuthorized for every mutating method; reads work')
def _(sb):
    before = normalized(ruleset(sb))
    u = 'alopex-test'
    for method, args in (('AddRule', ['string:zone=wan proto=tcp dport=81 action=accept',
                                      'uint32:0', 'string:']),
                         ('SetInterfaceZone', ['string:tw0', 'string:lan']),
                         ('Panic', ['boolean:true']),
                         ('Reload', [])):
        expect_error(dbus_send(sb, method, *args, user=u), E + 'NotAuthorized')
    a = add_rule(sb, 'zone=wan proto=tcp dport=82 action=accept')
    mid = normalized(ruleset(sb))
    expect_error(dbus_send(sb, 'RemoveRule', f'uint64:{a}', user=u), E + 'NotAuthorized')
    h.check_eq(normalized(ruleset(sb)), mid, 'the rule is still there')
    rc, data, err = call(sb, 'ListRuntimeRules', as_user=u)
    h.check_eq(rc, 0, f'ListRuntimeRules as a user: {err}')
    h.check_eq([r[0] for r in data[0]], [a], 'listed for the user')
    rc, data, err = call(sb, 'GetCounters', as_user=u)
    h.check_eq(rc, 0, f'GetCounters as a user: {err}')
    h.check(any(c[0] == 'zone' and c[1] == 'wan' for c in data[0]), f'counters: {data}')
    h.check_eq(prop(sb, 'Panic', as_user=u), False, 'property as a user')
    expect_ok(dbus_send(sb, 'RemoveRule', f'uint64:{a}'), 'RemoveRule as root')
    h.check_eq(normalized(ruleset(sb)), before, 'ruleset as before')


@tap.test('Reload: an invalid file is refused with file:line, the table unchanged; a valid one applies')
def _(sb):
    before = normalized(ruleset(sb))
    gen = prop(sb, 'Generation')
    write_config(sb, CONFIG + '\n[zones.bad]\ninterfaces = ["x"]\ninput = "sometimes"\n')
    ok, name, text = dbus_send(sb, 'Reload')
    h.check(not ok and name == E + 'InvalidArgument', f'Reload: {name} {text}')
    lines = (CONFIG + '\n[zones.bad]\ninterfaces = ["x"]\ninput = "sometimes"\n').splitlines()
    want_line = next(i for i, l in enumerate(lines, 1) if 'sometimes' in l)
    h.check(f'firewall.toml:{want_line}' in text, f'file:line {want_line} in {text!r}')
    h.check_eq(normalized(ruleset(sb)), before, 'ruleset unchanged')
    h.check_eq(prop(sb, 'Generation'), gen, 'no batch')
    # SIGHUP with the same invalid file: refused too, fwd keeps running.
    os.kill(sb.fwd.pid, signal.SIGHUP)
    sb.fwd.notify.wait_for('RELOADING', '1', timeout=10, proc=sb.fwd)
    h.check(sb.fwd.alive(), 'fwd survives a bad SIGHUP')
    h.check_eq(normalized(ruleset(sb)), before, 'ruleset unchanged after SIGHUP')

    write_config(sb, CONFIG + '\n[[zones.lan.rules]]\nproto = "tcp"\ndport = 7777\naction = "drop"\n')
    expect_ok(dbus_send(sb, 'Reload'), 'Reload valid')
    h.check(any('7777' in text_of(r) for r in rules(sb)), 'the new rule is in the table')
    h.check(any(r[0] == 'lan' and 'dport=7777' in r[1] for r in prop(sb, 'Rules')), 'Rules property')
    h.check(prop(sb, 'Generation') > gen, 'generation counted')
    write_config(sb)
    gen = prop(sb, 'Generation')
    os.kill(sb.fwd.pid, signal.SIGHUP)
    wait_gen_above(sb, gen)
    h.check(not any('7777' in text_of(r) for r in rules(sb)), 'SIGHUP reloaded the file')
    h.check_eq(normalized(ruleset(sb)), before, 'back to the first ruleset')
    foreign_intact(sb, 'after reloads')


class Opens:
    """Counts opens of one file (inotify IN_OPEN), independently of the daemon: whoever
    opens it, a read or a stat-free open, is seen."""
    IN_OPEN = 0x20

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        h.check(self.fd >= 0, f'inotify_init1: errno {ctypes.get_errno()}')
        wd = self.libc.inotify_add_watch(self.fd, path.encode(), self.IN_OPEN)
        h.check(wd >= 0, f'inotify_add_watch {path}: errno {ctypes.get_errno()}')

    def count(self):
        n = 0
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return n
            off = 0
            while off + 16 <= len(data):
                _, mask, _, length = struct.unpack_from('iIII', data, off)
                n += bool(mask & self.IN_OPEN)
                off += 16 + length

    def close(self):
        os.close(self.fd)


@tap.test('Reload from an unauthorized caller: NotAuthorized before firewall.toml is even opened')
def _(sb):
    before = normalized(ruleset(sb))
    gen = prop(sb, 'Generation')
    last_error = prop(sb, 'LastError')
    write_config(sb, CONFIG + '\n[zones.bad]\ninterfaces = ["x"]\ninput = "sometimes"\n')
    opens = Opens(os.path.join(sb.config_dir, 'firewall.toml'))
    try:
        ok, name, text = dbus_send(sb, 'Reload', user='alopex-test')
        h.check(not ok and name == E + 'NotAuthorized', f'Reload as a user: {name} {text}')
        h.check('firewall.toml' not in text and 'sometimes' not in text,
                f'the refusal tells nothing of the file: {text!r}')
        h.check_eq(opens.count(), 0, 'firewall.toml opened for an unauthorized Reload')
        h.check_eq(prop(sb, 'LastError'), last_error, 'LastError unchanged')
        h.check_eq(prop(sb, 'Generation'), gen, 'no batch')
        # The watch sees what it should: root's Reload opens the file and is told why not.
        ok, name, text = dbus_send(sb, 'Reload')
        h.check(not ok and name == E + 'InvalidArgument' and 'firewall.toml:' in text,
                f'Reload as root: {name} {text}')
        h.check(opens.count() > 0, 'the watch saw root\'s Reload open firewall.toml')
    finally:
        opens.close()
        write_config(sb)
    h.check_eq(normalized(ruleset(sb)), before, 'ruleset unchanged')


def persisted(sb):
    """The runtime state as alopex-fwd(8) keeps it: runtime.json (the snapshot) with the
    lines of runtime.journal above its seq replayed."""
    state = {'next_id': 1, 'panic': False, 'interfaces': {}, 'rules': [], 'seq': 0}
    path = os.path.join(sb.state_dir, 'runtime.json')
    if os.path.exists(path):
        with open(path) as f:
            state.update(json.load(f))
    rules = {r['id']: r for r in state['rules']}
    journal = os.path.join(sb.state_dir, 'runtime.journal')
    if os.path.exists(journal):
        with open(journal) as f:
            for line in f.read().split('\n')[:-1]:   # a torn last line is not a change
                c = json.loads(line)
                if c['seq'] <= state['seq']:
                    continue
                state['seq'] = c['seq']
                if c['op'] == 'add':
                    rules[c['id']] = {k: v for k, v in c.items() if k not in ('op', 'seq')}
                elif c['op'] == 'remove':
                    for i in c['ids']:
                        rules.pop(i, None)
                elif c['op'] == 'interface':
                    if c['zone']:
                        state['interfaces'][c['name']] = c['zone']
                    else:
                        state['interfaces'].pop(c['name'], None)
                elif c['op'] == 'panic':
                    state['panic'] = c['on']
    state['rules'] = [rules[i] for i in sorted(rules)]
    return state


@tap.test('SetInterfaceZone moves an interface (and persists); "" undoes it')
def _(sb):
    expect_ok(dbus_send(sb, 'SetInterfaceZone', 'string:tl0', 'string:wan'), 'SetInterfaceZone')
    h.check_eq(prop(sb, 'Interfaces').get('tl0'), 'wan', 'tl0 in wan')
    h.check_eq(persisted(sb)['interfaces'], {'tl0': 'wan'}, 'persisted')
    expect_ok(dbus_send(sb, 'SetInterfaceZone', 'string:tl0', 'string:'), 'SetInterfaceZone ""')
    h.check_eq(prop(sb, 'Interfaces').get('tl0'), 'lan', 'tl0 back in lan')


@tap.test("zones alopex-linkd gives its links are followed, below SetInterfaceZone")
def _(sb):
    linkd = sb.start_daemon('daemons/linkd/alopex-linkd', name='alopex-linkd',
                            wait_name='org.alopex.Link1', notify=True, watchdog_usec=1000000)
    index = k.ifindex(sb, 'tl0')

    def linkd_zone(zone):
        rc, _, err = sb.call('org.alopex.Link1', '/org/alopex/Link1', 'org.alopex.Link1.Manager',
                             'SetZone', 'is', index, zone)
        h.check_eq(rc, 0, f'linkd SetZone {zone!r}: {err}')

    def zone_of_tl0():
        return prop(sb, 'Interfaces').get('tl0')

    linkd_zone('wan')
    h.wait_until(lambda: zone_of_tl0() == 'wan', 10, 0.02, "tl0 in wan (linkd's zone)")
    h.check('tl0' in text_of(maps(sb).get('input_zones', {})), 'tl0 in the input map')
    expect_ok(dbus_send(sb, 'SetInterfaceZone', 'string:tl0', 'string:lan'), 'SetInterfaceZone')
    h.check_eq(zone_of_tl0(), 'lan', 'an explicit assignment ranks above linkd')
    expect_ok(dbus_send(sb, 'SetInterfaceZone', 'string:tl0', 'string:'), 'unassign')
    h.check_eq(zone_of_tl0(), 'wan', "back to linkd's zone")
    # A restarted fwd reads linkd's zones before its first apply: tl0 is in wan from the
    # start, not moved there from its pattern's zone a moment later (a second generation).
    os.kill(sb.fwd.pid, signal.SIGKILL)
    sb.fwd.popen.wait(10)
    start_fwd(sb)
    h.check_eq(zone_of_tl0(), 'wan', "linkd's zone right after the restart")
    h.check_eq(prop(sb, 'Generation'), 1, 'one generation: nothing moved after the first apply')
    linkd_zone('')
    h.wait_until(lambda: zone_of_tl0() == 'lan', 10, 0.02, 'back to the pattern tl*')
    # A zone from a linkd profile survives a linkd restart without a move: linkd takes its
    # name only once its profiles' matches (zones) are published, so fwd never reads an
    # empty linkd.
    links = os.path.join(sb.config_dir, 'links')
    os.makedirs(links, exist_ok=True)
    with open(os.path.join(links, 'tl0.toml'), 'w') as f:
        f.write('[match]\nname = "tl0"\n[link]\nzone = "wan"\n')
    os.kill(linkd.pid, signal.SIGHUP)
    h.wait_until(lambda: zone_of_tl0() == 'wan', 10, 0.02, "tl0 in wan (linkd profile's zone)")
    gen = prop(sb, 'Generation')
    linkd.stop()
    linkd = sb.start_daemon('daemons/linkd/alopex-linkd', name='alopex-linkd-2',
                            wait_name='org.alopex.Link1', notify=True, watchdog_usec=1000000)
    h.check_eq(sb.get_property('org.alopex.Link1', f'/org/alopex/Link1/link/{index}',
                               'org.alopex.Link1.Link', 'Zone'), 'wan', 'the new linkd has the zone')
    h.check_eq(zone_of_tl0(), 'wan', 'tl0 still in wan')
    h.check_eq(prop(sb, 'Generation'), gen, 'no move while linkd restarted (same generation)')
    os.remove(os.path.join(links, 'tl0.toml'))
    linkd_zone('')
    h.wait_until(lambda: zone_of_tl0() == 'lan', 10, 0.02, 'back to the pattern tl*')
    linkd.stop()


@tap.test('Panic on and off: the table changes and comes back; the foreign table stays')
def _(sb):
    before = normalized(table(sb))
    expect_ok(dbus_send(sb, 'Panic', 'boolean:true'), 'Panic on')
    h.check_eq(prop(sb, 'Panic'), True, 'Panic property')
    h.check(normalized(table(sb)) != before, 'the table changed')
    foreign_intact(sb, 'in panic mode')
    expect_ok(dbus_send(sb, 'Panic', 'boolean:false'), 'Panic off')
    h.check_eq(prop(sb, 'Panic'), False, 'Panic property off')
    h.check_eq(normalized(table(sb)), before, 'the table is back')


@tap.test('runtime rules with a 2 s expiry disappear by themselves (element and rule)')
def _(sb):
    a = add_rule(sb, 'zone=wan proto=tcp dport=8801 action=accept', 2, 'short')
    b = add_rule(sb, 'zone=wan proto=tcp dport=8802 action=accept log=yes', 2, 'short rule')
    lst = runtime_rules(sb)
    h.check_eq((lst[a][5], lst[b][5]), ('element', 'rule'), 'placement')
    h.check(lst[a][4] > 0 and abs(lst[a][4] / 1e6 - (time.time() + 2)) < 2, f'deadline {lst[a][4]}')
    h.check('8801' in text_of(table(sb)) and '8802' in text_of(table(sb)), 'both in the table')
    h.wait_until(lambda: runtime_rules(sb) == {}, 8, 0.1, 'both expired from the list')
    h.wait_until(lambda: '8801' not in text_of(table(sb)) and '8802' not in text_of(table(sb)),
                 5, 0.1, 'both gone from the table')


@tap.test('kill -9 and restart with runtime rules: the same table, nothing duplicated')
def _(sb):
    a = add_rule(sb, 'zone=wan proto=tcp dport=8901 action=accept', 0, 'stays')
    b = add_rule(sb, 'zone=wan proto=udp dport=8902 action=drop log=yes', 3600, 'stays too')
    expect_ok(dbus_send(sb, 'SetInterfaceZone', 'string:tl0', 'string:wan'), 'SetInterfaceZone')
    before = normalized(table(sb))
    n_rules = len(rules(sb))
    listed = runtime_rules(sb)
    os.kill(sb.fwd.pid, signal.SIGKILL)
    sb.fwd.popen.wait(10)
    h.check_eq(normalized(table(sb)), before, 'the table outlives fwd (persist)')
    start_fwd(sb)
    h.check_eq(normalized(table(sb)), before, 'the same table after the restart')
    h.check_eq(len(rules(sb)), n_rules, 'no rule duplicated')
    tables = [o['table'] for o in nft_j(sb, 'list', 'tables') if 'table' in o]
    ours = [t for t in tables if t['name'] == 'alopex']
    h.check_eq(len(ours), 1, 'one table')
    h.check('owner' in ours[0].get('flags', []), f'owned again: {ours}')
    h.check_eq(runtime_rules(sb), listed, 'runtime rules listed as before')
    h.check_eq(prop(sb, 'Interfaces').get('tl0'), 'wan', 'the assignment survived')
    c = add_rule(sb, 'zone=wan proto=tcp dport=8903 action=accept')
    h.check(c > max(a, b), 'ids are not reused after a restart')
    for i in (a, b, c):
        expect_ok(dbus_send(sb, 'RemoveRule', f'uint64:{i}'), f'RemoveRule {i}')
    expect_ok(dbus_send(sb, 'SetInterfaceZone', 'string:tl0', 'string:'), 'unassign')
    foreign_intact(sb, 'after a restart')


def kill_fwd(sb):
    os.kill(sb.fwd.pid, signal.SIGKILL)
    sb.fwd.popen.wait(10)


def in_panic(sb):
    """Whether the kernel has panic mode's rules: a bare drop in a base chain."""
    return any(r['chain'] in ('input', 'forward', 'output') and r['expr'] == [{'drop': None}]
               for r in rules(sb))


@tap.test('a damaged runtime.journal line: the deny rule and panic before it survive, '
          'LastError names file:line, the recovered state is saved')
def _(sb):
    deny = add_rule(sb, 'zone=wan proto=tcp dport=7001 saddr=198.51.100.9 action=drop', 0, 'deny')
    expect_ok(dbus_send(sb, 'Panic', 'boolean:true'), 'Panic on')
    later = add_rule(sb, 'zone=wan proto=tcp dport=7002 action=accept', 0, 'past the damage')
    kill_fwd(sb)
    journal = os.path.join(sb.state_dir, 'runtime.journal')
    with open(journal) as f:
        lines = f.read().split('\n')[:-1]
    bad = next(i for i, l in enumerate(lines, 1) if json.loads(l).get('id') == later)
    lines[bad - 1] = lines[bad - 1][:len(lines[bad - 1]) // 2]   # damaged, newline kept
    damaged = '\n'.join(lines) + '\n'
    with open(journal, 'w') as f:
        f.write(damaged)

    start_fwd(sb)
    h.check_eq(prop(sb, 'Panic'), True, 'panic mode kept')
    listed = runtime_rules(sb)
    h.check(deny in listed, f'the deny rule kept: {listed}')
    h.check(later not in listed, f'the damaged line is not applied: {listed}')
    h.check(in_panic(sb), 'the kernel has the panic rules')
    err = prop(sb, 'LastError')
    h.diag(f'LastError: {err}')
    h.check(f'runtime.journal:{bad}: ' in err, f'file:line {bad} in LastError {err!r}')
    kept = f"{bad - 1} line{'' if bad == 2 else 's'}"
    h.check(f"kept the snapshot and the journal's {kept} before it" in err and
            'panic mode on' in err, f'what was kept: {err!r}')
    h.check(os.path.exists(journal + '.invalid') and open(journal + '.invalid').read() == damaged,
            'the damaged journal is kept as runtime.journal.invalid')
    h.check(journal + '.invalid' in err, f'LastError says where the files went: {err!r}')
    saved = persisted(sb)
    h.check_eq(saved['panic'], True, 'the recovered panic flag is saved')
    h.check_eq([r['id'] for r in saved['rules'] if r['id'] in (deny, later)], [deny], 'saved rules')

    # The next start reads the saved state: no damage, the same rules, panic still on.
    kill_fwd(sb)
    start_fwd(sb)
    h.check_eq(prop(sb, 'LastError'), '', 'a clean start after the recovery')
    h.check_eq(prop(sb, 'Panic'), True, 'panic mode still on')
    h.check(deny in runtime_rules(sb), 'the deny rule still there')
    expect_ok(dbus_send(sb, 'Panic', 'boolean:false'), 'Panic off')
    h.check(not in_panic(sb), 'panic rules gone')
    text = text_of(table(sb))
    h.check('7001' in text and '7002' not in text, 'the kernel has the deny rule, not the damaged one')

    # An unreadable snapshot: what it held is unknown, so panic mode goes on (fail closed).
    kill_fwd(sb)
    snapshot = os.path.join(sb.state_dir, 'runtime.json')
    with open(snapshot) as f:
        good = f.read()
    with open(snapshot, 'w') as f:
        f.write(good[:len(good) // 2])
    start_fwd(sb)
    h.check_eq(prop(sb, 'Panic'), True, 'panic mode on after an unreadable snapshot')
    err = prop(sb, 'LastError')
    h.diag(f'LastError: {err}')
    h.check(err.startswith(snapshot + ': ') and 'panic mode is on until it is turned off' in err,
            f'LastError {err!r}')
    h.check(os.path.exists(snapshot + '.invalid'), 'the damaged snapshot is kept as runtime.json.invalid')
    h.check(in_panic(sb), 'the kernel has the panic rules')
    h.check(deny not in runtime_rules(sb), 'the deny rule was in the lost snapshot only')
    expect_ok(dbus_send(sb, 'Panic', 'boolean:false'), 'Panic off by the administrator')
    h.check(not in_panic(sb), 'panic rules gone')
    for i in runtime_rules(sb):
        expect_ok(dbus_send(sb, 'RemoveRule', f'uint64:{i}'), f'RemoveRule {i}')
    foreign_intact(sb, 'after recoveries')


@tap.test('Version answers while polkitd is stopped with a Panic authorization pending')
def _(sb):
    """polkit checks are asynchronous: a stopped polkitd holds back only the call that
    waits for it; the loop keeps serving everyone else, and the waiting call completes
    once polkitd runs again."""
    h.check_eq(prop(sb, 'Panic'), False, 'panic off before')
    monitor = sb.spawn('dbus-monitor-polkit', [
        'dbus-monitor', '--address', sb.bus_address,
        "type='method_call',interface='org.freedesktop.PolicyKit1.Authority',"
        "member='CheckAuthorization'"])
    # Once it is a monitor it prints the NameLost of its own unique name.
    h.wait_until(lambda: 'NameLost' in monitor.log(10 ** 6), 20, 0.02, 'dbus-monitor monitoring')
    pid = sb.polkit.popen.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        pending = sb.spawn('panic-call', ['busctl', f'--address={sb.bus_address}',
                                          '--timeout=60', 'call', SERVICE, ROOT, IFACE,
                                          'Panic', 'b', 'true'])
        h.wait_until(lambda: 'CheckAuthorization' in monitor.log(10 ** 6), 20, 0.02,
                     'fwd asking polkit (seen by dbus-monitor)')
        for i in range(10):
            t0 = time.monotonic()
            rc, data, err = call(sb, 'Version')
            took = time.monotonic() - t0
            h.check_eq(rc, 0, f'Version #{i} while polkit is stopped ({err})')
            h.check(took < 2, f'Version #{i} took {took:.2f} s')
        h.check(pending.alive(), 'the Panic call still waits for polkit')
        h.check_eq(prop(sb, 'Panic'), False, 'nothing changed while polkit has not answered')
    finally:
        os.kill(pid, signal.SIGCONT)
    h.wait_until(lambda: not pending.alive(), 30, 0.05, 'the Panic call answered')
    h.check_eq(pending.popen.returncode, 0, f'Panic after polkit answered: {pending.log()}')
    h.check_eq(prop(sb, 'Panic'), True, 'panic on')
    monitor.stop()
    expect_ok(dbus_send(sb, 'Panic', 'boolean:false'), 'Panic off')
    h.check_eq(prop(sb, 'Panic'), False, 'panic off after')


@tap.test('SIGTERM: fwd exits 0 and the table stays')
def _(sb):
    before = normalized(table(sb))
    sb.fwd.popen.send_signal(signal.SIGTERM)
    rc = sb.fwd.popen.wait(10)
    h.check_eq(rc, 0, 'exit status')
    h.check_eq(normalized(table(sb)), before, 'table kept')
    foreign_intact(sb, 'after stop')
    start_fwd(sb)


@tap.test('as alopex-fw with CAP_NET_ADMIN only (as the unit runs it): takes over, applies, persists')
def _(sb):
    before = normalized(table(sb))
    sb.fwd.popen.send_signal(signal.SIGTERM)
    h.check_eq(sb.fwd.popen.wait(10), 0, 'root fwd stopped')
    # polkit answers CheckAuthorization for another user's subject only to root or to the
    # action's owner: fwd as alopex-fw needs org.freedesktop.policykit.owner on the action.
    with open(sb.source_path('policy/polkit/org.alopex.policy')) as f:
        h.check('unix-user:alopex-fw' in f.read(),
                'org.alopex.firewall.configure needs <annotate key="org.freedesktop.policykit.owner">'
                'unix-user:alopex-fw</annotate>, else fwd as alopex-fw can authorize nobody')
    p = start_fwd_as_fw_user(sb)
    with open(f'/proc/{p.pid}/status') as f:
        status = dict(l.split(':', 1) for l in f.read().splitlines() if ':' in l)
    # setpriv execs fwd itself, so the pid is fwd's.
    h.check_eq(int(status['Uid'].split()[0]), sb.user('alopex-fw')[0], 'runs as alopex-fw')
    h.check_eq(int(status['CapEff'], 16), 1 << 12, f'CAP_NET_ADMIN only: {status["CapEff"]}')
    h.check_eq(normalized(table(sb)), before, 'the same table after the takeover')
    a = add_rule(sb, 'zone=wan proto=tcp dport=9501 action=accept', 0, 'as alopex-fw')
    h.check('9501' in text_of(table(sb)), 'applied')
    st = os.stat(os.path.join(sb.state_dir, 'runtime.json'))
    h.check_eq(st.st_uid, sb.user('alopex-fw')[0], 'runtime.json written by alopex-fw')
    ip(sb, 'addr', 'add', '198.51.100.77/24', 'dev', 'tw0')
    h.wait_until(lambda: '198.51.100.77' in text_of(sets(sb).get('wan_addr4', {})), 5, 0.01,
                 'the address follows')
    ip(sb, 'addr', 'del', '198.51.100.77/24', 'dev', 'tw0')
    expect_ok(dbus_send(sb, 'RemoveRule', f'uint64:{a}'), 'RemoveRule')
    foreign_intact(sb, 'under alopex-fw')


@tap.test('an invalid firewall.toml at start: exit 1 naming file:line:col')
def _(sb):
    write_config(sb, 'default_zone = 5\n')
    exe = sb.build_path('daemons/fwd/alopex-fwd')
    rc, out, err = sb.run([exe])
    h.check_eq(rc, 1, f'exit status ({out}{err})')
    h.check('firewall.toml:1:' in err, f'file:line:col in {err!r}')
    write_config(sb)


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
