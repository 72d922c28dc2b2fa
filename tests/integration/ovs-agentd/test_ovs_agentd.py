#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-ovs-agentd, the daemon (its D-Bus API: test_ovs_agentd_bus.py), as
the unprivileged alopex-ovs with the real alopex-brokerd: its ovsdb-server socket comes
from the broker (OpenOvsdb), its /etc/network/interfaces block goes through the broker's
WriteManagedBlock (and its validator), its actions into the broker's ledger. Against a
real ovsdb-server and ovs-vswitchd (userspace datapath), checked with ovs-vsctl and the
file itself: the bridge is created as configured ([bridge] create), READY=1 once synced,
a veth is attached with the VLAN tag its [ports] entry gives, the block holds its
stanza while the admin's lines around it stay byte for byte, and when the veth goes the
port and its stanza go; the ledger records both. A [ports] entry changed for a port it
attached is applied when it starts again (its tag, and the block). A bad setting stops
the start, named file:line:col."""
import json
import os
import subprocess

import alopex_harness as h
from ovs_env import create_db, start_ovsdb, start_vswitchd, veth
from ovs_env import vsctl as ovs_vsctl

tap = h.Tap()
CTX = {}
BEFORE = 'auto lo\niface lo inet loopback\n\n# BEGIN ovs\n'
AFTER = '# END ovs\n\nauto eth9\niface eth9 inet dhcp\n'


def vsctl(sb, *args):
    return ovs_vsctl(sb, CTX['dir'], *args)


def interfaces():
    with open(CTX['interfaces']) as f:
        return f.read()


def stanza(name, tag=None):
    text = (f'\nauto {name}\nallow-ovsbr9 {name}\niface {name} inet manual\n\tovs_type OVSPort\n'
            f'\tovs_bridge ovsbr9\n')
    return text + (f'\tovs_options tag={tag}\n' if tag is not None else '')


def ledger_actions(sb):
    path = os.path.join(sb.state_dir, 'ledger.jsonl')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def setup(sb):
    sb.start_bus()
    subprocess.run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
                   check=True)
    CTX['dir'] = create_db(sb)
    start_ovsdb(sb, CTX['dir'])
    vsctl(sb, 'init')
    start_vswitchd(sb, CTX['dir'])
    etc = sb.path('etc-network')
    os.makedirs(etc, mode=0o755)
    CTX['interfaces'] = os.path.join(etc, 'interfaces')
    with open(CTX['interfaces'], 'w') as f:
        f.write(BEFORE + AFTER)
    sb.start_broker(f"""[[block]]
id = "interfaces"
path = "{CTX['interfaces']}"
tag = "ovs"
validator = "interfaces"
callers = ["alopex-ovs"]

[ovsdb]
socket = "{CTX['dir']}/db.sock"
callers = ["alopex-ovs"]

[record]
callers = ["alopex-ovs"]
""")
    with open(os.path.join(sb.config_dir, 'ovs-agent.toml'), 'w') as f:
        f.write('bridge_name = "ovsbr9"\nmanaged_block_tag = "ovs"\n[bridge]\ncreate = true\n'
                'datapath_type = "netdev"\n[ports.veth101i0]\ntag = 10\n')


@tap.test('as alopex-ovs: the bridge is created through the broker\'s ovsdb socket, then READY=1')
def _(sb):
    p = CTX['agentd'] = sb.start_daemon('daemons/ovs-agentd/alopex-ovs-agentd', as_user='alopex-ovs', notify=True)
    p.notify.wait_for('READY', '1', timeout=20, proc=p)
    h.check_eq(vsctl(sb, 'get', 'Bridge', 'ovsbr9', 'datapath_type').strip(), 'netdev')
    h.check_eq(vsctl(sb, 'get', 'Bridge', 'ovsbr9', 'external_ids:alopex-owner').strip(), 'ovs-agentd')
    with open(f'/proc/{p.pid}/status') as f:
        uid = next(l.split()[1] for l in f if l.startswith('Uid:'))
    h.check_eq(uid, str(sb.user('alopex-ovs')[0]), 'runs as alopex-ovs')
    h.wait_until(lambda: interfaces() == BEFORE + '# alopex-ovs-agentd: its ports on ovsbr9, rewritten on every change\n'
                 + AFTER, 10, 0.05, f'the empty block: {interfaces()!r}')


@tap.test('a veth is attached with its VLAN tag; the block holds its stanza, the admin\'s lines stay')
def _(sb):
    veth('veth101i0', 'p101')
    h.wait_until(lambda: vsctl(sb, '--if-exists', 'get', 'Interface', 'veth101i0', 'ofport').strip() not in ('', '[]'),
                 10, 0.02, 'veth101i0 attached')
    h.check_eq(vsctl(sb, 'get', 'Port', 'veth101i0', 'tag').strip(), '10')
    want = BEFORE + '# alopex-ovs-agentd: its ports on ovsbr9, rewritten on every change\n' + stanza('veth101i0', 10) + AFTER
    h.wait_until(lambda: interfaces() == want, 10, 0.05, f'the block with veth101i0: {interfaces()!r}')


@tap.test('the veth goes: its port and its stanza go; the ledger has both actions')
def _(sb):
    subprocess.run(['ip', 'link', 'del', 'veth101i0'], check=True)
    h.wait_until(lambda: 'veth101i0' not in vsctl(sb, 'list-ports', 'ovsbr9').split(), 10, 0.02, 'detached')
    want = BEFORE + '# alopex-ovs-agentd: its ports on ovsbr9, rewritten on every change\n' + AFTER
    h.wait_until(lambda: interfaces() == want, 10, 0.05, f'the block empty again: {interfaces()!r}')

    def actions():   # the agent's records (actor alopex-ovs), their details a JSON object
        return [(r['action'], json.loads(r['details']).get('port')) for r in ledger_actions(sb)
                if r['action'].startswith('ovs.')]
    h.wait_until(lambda: ('ovs.attach', 'veth101i0') in actions() and ('ovs.detach', 'veth101i0') in actions(),
                 10, 0.05, 'the ledger\'s ovs.attach and ovs.detach of veth101i0')
    h.check_eq([a for a, _ in actions()][0], 'ovs.bridge.create', 'the bridge creation recorded first')
    h.check(all(r['actor'] == 'alopex-ovs' for r in ledger_actions(sb) if r['action'].startswith('ovs.')),
            'stamped with the caller')


@tap.test('a [ports] entry changed for a port the agent attached is applied at the next start; the block follows')
def _(sb):
    veth('veth105i0', 'p105')
    h.wait_until(lambda: vsctl(sb, '--if-exists', 'get', 'Interface', 'veth105i0', 'ofport').strip() not in ('', '[]'),
                 10, 0.02, 'veth105i0 attached')
    h.check_eq(vsctl(sb, 'get', 'Port', 'veth105i0', 'tag').strip(), '[]', 'untagged: no [ports] entry yet')
    CTX['agentd'].stop()
    with open(os.path.join(sb.config_dir, 'ovs-agent.toml'), 'a') as f:
        f.write('[ports.veth105i0]\ntag = 20\n')
    p = CTX['agentd'] = sb.start_daemon('daemons/ovs-agentd/alopex-ovs-agentd', name='alopex-ovs-agentd-2',
                                        as_user='alopex-ovs', notify=True)
    p.notify.wait_for('READY', '1', timeout=20, proc=p)
    h.wait_until(lambda: vsctl(sb, 'get', 'Port', 'veth105i0', 'tag').strip() == '20', 10, 0.02, 'tag 20 set')
    want = BEFORE + '# alopex-ovs-agentd: its ports on ovsbr9, rewritten on every change\n' + stanza('veth105i0', 20) + AFTER
    h.wait_until(lambda: interfaces() == want, 10, 0.05, f'the block with tag=20: {interfaces()!r}')


@tap.test('a bad setting stops the start, named file:line:col')
def _(sb):
    bad = sb.path('bad-ovs-agent.toml')
    with open(bad, 'w') as f:
        f.write('bridge_name = "ovsbr9"\ndebounce_ms = 99999\n')
    rc, _, err = sb.run([sb.build_path('daemons/ovs-agentd/alopex-ovs-agentd'), '--config', bad], timeout=10)
    h.check_eq(rc, 1, err)
    h.check(f"{bad}:2:15: 'debounce_ms' must be 0..10000, not 99999" in err, err)


h.main(tap, setup)
