#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`alopexctl fw` against a real alopex-fwd (root, private bus, polkitd, its own network
namespace): every subcommand's output and exit status, checked against the daemon's own
properties and methods read with busctl and against the kernel (`nft -j`, `ip -j`)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'daemon'))

import alopex_harness as h  # noqa: E402
from fwd_env import E, nft_j, prop, runtime_rules, setup  # noqa: E402

tap = h.Tap()


def ctl(sb, *args, as_user=None):
    """Runs alopexctl; returns (rc, stdout, stderr)."""
    return sb.run([sb.build_path('tools/alopexctl/alopexctl'), *args], as_user=as_user)


def ctl_ok(sb, *args):
    rc, out, err = ctl(sb, *args)
    h.check_eq(rc, 0, f'alopexctl {" ".join(args)} exit status ({err.strip()})')
    return out


def ctl_json(sb, *args):
    return json.loads(ctl_ok(sb, '--json', *args))


def table_text(sb):
    return json.dumps(nft_j(sb, 'list', 'table', 'inet', 'alopex'))


@tap.test('fw status: text and JSON agree with the properties')
def _(sb):
    # Events may still arrive (IPv6 link-local addresses finishing DAD): the CLI's count
    # lies between the daemon's counts read before and after it.
    events_before = sum(b[1] for b in prop(sb, 'LatencyHistogram'))
    j = ctl_json(sb, 'fw', 'status')
    events_after = sum(b[1] for b in prop(sb, 'LatencyHistogram'))
    h.check_eq(j['default_zone'], prop(sb, 'DefaultZone'), 'default_zone')
    h.check_eq(j['panic'], False, 'panic')
    h.check(j['generation'] >= 1 and j['generation'] <= prop(sb, 'Generation'), f'generation {j["generation"]}')
    h.check_eq(j['zones'], len(prop(sb, 'Zones')), 'zones')
    h.check_eq(j['rules'], len(prop(sb, 'Rules')), 'rules')
    h.check_eq(j['interfaces'], prop(sb, 'Interfaces'), 'interfaces')
    bounds = [b['le_us'] for b in j['latency']['buckets']]
    h.check(all(isinstance(b, int) for b in bounds[:-1]) and (not bounds or bounds[-1] is None
                                                             or isinstance(bounds[-1], int)),
            f'bucket bounds: integers, the open last one null: {bounds}')
    h.check(all(b is None or b < 2 ** 53 for b in bounds), f'bounds a JSON reader holds exactly: {bounds}')
    h.check(events_before <= j['latency']['events'] <= events_after,
            f'latency events {j["latency"]["events"]}, daemon {events_before}..{events_after}')
    text = ctl_ok(sb, 'fw', 'status')
    h.diag(text)
    h.check(f'default zone   {j["default_zone"]}\n' in text, text)
    h.check('panic          off\n' in text, text)
    h.check('tw0 (wan)' in text, text)
    # `fw` alone is `fw status`.
    h.check_eq(ctl_ok(sb, 'fw').splitlines()[0], text.splitlines()[0], 'fw alone')


@tap.test('fw zones: patterns, current interfaces and the zone addresses `ip` shows')
def _(sb):
    j = ctl_json(sb, 'fw', 'zones')
    zones = {z['name']: z for z in j['zones']}
    h.check_eq(sorted(zones), ['lan', 'wan'], 'zone names')
    h.check_eq(zones['wan']['patterns'], ['tw*'], 'wan patterns')
    h.check_eq(zones['wan']['interfaces'], ['tw0'], 'wan interfaces')
    # lan is the default zone: it also holds the interfaces no pattern matches (lo).
    ifaces = prop(sb, 'Interfaces')
    h.check_eq(zones['lan']['interfaces'], sorted(i for i, z in ifaces.items() if z == 'lan'), 'lan interfaces')
    h.check('tl0' in zones['lan']['interfaces'], f'lan interfaces {zones["lan"]}')
    h.check_eq(zones['wan']['masquerade'], True, 'wan masquerade')
    h.check_eq(zones['wan']['input'], 'drop', 'wan input')
    h.check(zones['lan']['default'], 'lan is the default zone')
    rc, out, err = sb.run(['ip', '-j', 'addr', 'show', 'dev', 'tw0'])
    h.check_eq(rc, 0, err)
    v4 = [a['local'] for a in json.loads(out)[0]['addr_info'] if a['family'] == 'inet']
    h.check_eq(v4, ['203.0.113.1'], 'ip addr of tw0')
    h.check(any(a.startswith('203.0.113.1') for a in zones['wan']['addresses']), f'wan addresses {zones["wan"]}')
    text = ctl_ok(sb, 'fw', 'zones')
    h.diag(text)
    h.check(text.startswith('ZONE '), text)
    h.check('tw*' in text and '203.0.113.1' in text, text)


@tap.test('fw allow: the rule fwd lists and the kernel holds; fw rules shows its expiry')
def _(sb):
    before = time.time()
    rc, out, err = ctl(sb, 'fw', 'allow', 'tcp', '8081', '--from', '192.0.2.0/24', '--expires', '1h',
                       '--comment', 'cli-test', '--zone', 'wan')
    h.check_eq(rc, 0, f'fw allow ({err.strip()})')
    rid = int(out.strip())
    rt = runtime_rules(sb)
    h.check(rid in rt, f'id {rid} not in {rt}')
    _, zone, spec, comment, expires_us, where = rt[rid]
    h.check_eq(zone, 'wan', 'zone')
    h.check('dport=8081' in spec and 'saddr=192.0.2.0/24' in spec and 'accept' in spec, spec)
    h.check_eq(comment, 'cli-test', 'comment')
    h.check(before + 3590 <= expires_us / 1e6 <= time.time() + 3610, f'expires {expires_us}')
    h.check('8081' in table_text(sb), 'port 8081 in the kernel table')
    j = ctl_json(sb, 'fw', 'rules')
    mine = [r for r in j['runtime_rules'] if r['id'] == rid]
    h.check_eq(len(mine), 1, f'runtime rules {j["runtime_rules"]}')
    h.check(3500 < mine[0]['expires_in_s'] <= 3600, f'expires_in_s {mine[0]}')
    h.check_eq(mine[0]['where'], where, 'where')
    h.check_eq(len(j['rules']), len(prop(sb, 'Rules')), 'configured rules')
    text = ctl_ok(sb, 'fw', 'rules')
    h.diag(text)
    line = [ln for ln in text.splitlines() if ln.startswith(f'{rid} ')]
    h.check(line and ('59m' in line[0] or '1h' in line[0]) and 'cli-test' in line[0], text)
    sb.cli_rule = rid


@tap.test('fw deny --reject, fw allow icmp and fw forward reach fwd as specs')
def _(sb):
    ids = []
    for args, words in ((['deny', 'tcp', '8090-8091', '--reject'], ['8090', 'reject']),
                        (['allow', 'icmp', 'echo-request', '--zone', 'wan'], ['icmp', 'echo-request']),
                        (['forward', 'tcp', '8082', '--to', '10.1.0.6:80', '--zone', 'wan'], ['8082', '10.1.0.6'])):
        j = ctl_json(sb, 'fw', *args)
        rt = runtime_rules(sb)
        h.check(j['id'] in rt, f'{args}: id {j["id"]} not in {rt}')
        spec = rt[j['id']][2]
        for w in words:
            h.check(w in spec, f'{w!r} not in {spec!r} ({args})')
        h.check_eq(rt[j['id']][4], 0, f'{args}: no expiry')
        ids.append(j['id'])
    h.check('10.1.0.6' in table_text(sb), 'the forward is in the kernel table')
    for rid in ids:
        ctl_ok(sb, 'fw', 'remove', str(rid))
    rt = runtime_rules(sb)
    h.check(not any(r in rt for r in ids), f'removed: {rt}')
    h.check('10.1.0.6' not in table_text(sb), 'the forward is gone from the kernel table')


@tap.test('fw remove: the rule goes; an unknown id is NoSuchId with exit status 3')
def _(sb):
    rid = sb.cli_rule
    ctl_ok(sb, 'fw', 'remove', str(rid))
    h.check(rid not in runtime_rules(sb), 'removed')
    h.check('8081' not in table_text(sb), 'port 8081 gone from the kernel table')
    rc, out, err = ctl(sb, 'fw', 'remove', str(rid))
    h.check_eq(rc, 3, f'exit status ({err.strip()})')
    h.check(f'{E}NoSuchId' in err, err)


@tap.test('bad arguments: exit status 2 and nothing sent; bad specs: fwd\'s named error')
def _(sb):
    gen = prop(sb, 'Generation')
    before = runtime_rules(sb)
    for args in (['allow', 'tcp', '0'], ['allow', 'tcp', '80', '--expires', '1h1h'],
                 ['allow', 'tcp', '80', '--expires', '-5'], ['allow', 'tcp'],
                 ['allow', 'tcp', '80', '--from', '192.0.2.1/24'], ['forward', 'tcp', '80'],
                 ['remove', 'x'], ['panic', 'maybe'], ['frobnicate']):
        rc, out, err = ctl(sb, 'fw', *args)
        h.check_eq(rc, 2, f'fw {" ".join(args)}: exit status ({err.strip()})')
        h.check(err.startswith('alopexctl: '), err)
    rc, out, err = ctl(sb, 'fw', 'allow', 'tcp', '80', '--zone', 'nosuch')
    h.check_eq(rc, 3, f'unknown zone: exit status ({err.strip()})')
    h.check(f'{E}InvalidArgument' in err and 'nosuch' in err, err)
    rc, out, err = ctl(sb, 'fw', 'allow', 'tcp', '80', '--from', '@nosuchset')
    h.check_eq(rc, 3, f'unknown set: exit status ({err.strip()})')
    h.check(f'{E}InvalidArgument' in err, err)
    h.check_eq(runtime_rules(sb), before, 'runtime rules unchanged')
    h.check_eq(prop(sb, 'Generation'), gen, 'nothing applied')


@tap.test('fw panic on/off and fw set-zone change the properties')
def _(sb):
    ctl_ok(sb, 'fw', 'panic', 'on')
    h.check_eq(prop(sb, 'Panic'), True, 'Panic')
    h.check('panic          ON' in ctl_ok(sb, 'fw', 'status'), 'status shows panic')
    ctl_ok(sb, 'fw', 'panic', 'off')
    h.check_eq(prop(sb, 'Panic'), False, 'Panic off')
    ctl_ok(sb, 'fw', 'set-zone', 'tl0', 'wan')
    h.check_eq(prop(sb, 'Interfaces').get('tl0'), 'wan', 'tl0 in wan')
    ctl_ok(sb, 'fw', 'set-zone', 'tl0', '-')
    h.check_eq(prop(sb, 'Interfaces').get('tl0'), 'lan', 'tl0 back in lan')


@tap.test('fw counters and fw reload')
def _(sb):
    j = ctl_json(sb, 'fw', 'counters')
    rc, data, err = sb.call('org.alopex.Firewall1', '/org/alopex/Firewall1', 'org.alopex.Firewall1',
                            'GetCounters')
    h.check_eq(rc, 0, err)
    h.check_eq(sorted((c['kind'], c['name']) for c in j['counters']),
               sorted((c[0], c[1]) for c in data[0]), 'counter names')
    h.check(any(c['kind'] == 'zone' and c['name'] == 'wan' for c in j['counters']), f'{j}')
    text = ctl_ok(sb, 'fw', 'counters')
    h.diag(text)
    h.check(text.startswith('KIND '), text)
    gen = prop(sb, 'Generation')
    ctl_ok(sb, 'fw', 'reload')
    h.check(prop(sb, 'Generation') > gen, 'reload applied a ruleset')
    # A change that answers nothing still prints a JSON document with --json.
    h.check_eq(json.loads(ctl_ok(sb, '--json', 'fw', 'reload')), {}, '--json fw reload')


@tap.test('a caller polkit refuses gets NotAuthorized (exit status 3), nothing changes')
def _(sb):
    before = runtime_rules(sb)
    rc, out, err = ctl(sb, 'fw', 'allow', 'tcp', '8083', as_user=65534)
    h.check_eq(rc, 3, f'exit status ({err.strip()})')
    h.check(f'{E}NotAuthorized' in err, err)
    h.check_eq(runtime_rules(sb), before, 'runtime rules unchanged')
    # Reading needs no authorization.
    rc, out, err = ctl(sb, '--json', 'fw', 'status', as_user=65534)
    h.check_eq(rc, 0, f'status as nobody ({err.strip()})')


@tap.test('fwd not running: exit status 4 and "not running", for reads and changes')
def _(sb):
    sb.fwd.stop()
    for args in (('fw', 'status'), ('--json', 'fw', 'rules'), ('fw', 'allow', 'tcp', '8084')):
        rc, out, err = ctl(sb, *args)
        h.check_eq(rc, 4, f'alopexctl {" ".join(args)} exit status ({err.strip()})')
        h.check('not running' in err, err)
        h.check_eq(out, '', 'nothing on stdout')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
