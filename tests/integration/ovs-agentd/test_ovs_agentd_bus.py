#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-ovs-agentd's D-Bus API (issue 13): org.alopex.PortAgent1 and nm-monitor's
dev.ovs.PortAgent1, with the daemon as alopex-ovs beside the real alopex-brokerd
(ovsdb socket, ledger), alopex-linkd (renames, deletions), polkitd on the private bus,
ovsdb-server and ovs-vswitchd (userspace datapath); outcomes checked with ovs-vsctl,
`ip -j` and the ledger. The live introspection equals both XML files. The seed README's
gdbus lines run verbatim: ping, list_ports, create_container_interface (the raw veth
renamed to vi100 through linkd, attached with its container and VMID) and
remove_container_interface (detached, deleted with its peer); the PascalCase names
answer too. AttachPort attaches a link without a configured prefix and answers with its
ofport; DetachPort takes the agent's port off and keeps a matching link off until it is
attached again; a port without the agent's mark is refused and stays; an unknown link
is NoSuchLink, an unprivileged caller NotAuthorized (nothing changes). Traffic flows
between two namespaces across the bridge; with ovsdb-server stopped mid-transaction the
loop keeps answering D-Bus. With enable_rename, LXC veths are renamed by naming_template
with container_name_cmd's answer (its VMID when the command fails, times out or prints no
container name). Reload and SIGHUP apply new prefixes at once and name what waits for a
restart; an invalid file is refused with file:line:col. alopexctl ovs drives it all too,
and alopex-ovs-hook attaches a Proxmox guest's interfaces (post-start) and a container's
(an OCI poststart hook, the state on stdin)."""
import json
import os
import signal
import subprocess
import time

import alopex_dbus as bus
import alopex_harness as h
from alopex_kernel import ip_j
from alopex_peer import netns_holder
from ovs_env import ofport as ovs_ofport
from ovs_env import ping_from, start_stack, two_namespaces, veth
from ovs_env import vsctl as ovs_vsctl

tap = h.Tap()
CTX = {}
SERVICE, PATH, IFACE = 'org.alopex.PortAgent1', '/org/alopex/PortAgent1', 'org.alopex.PortAgent1'
SEED = 'dev.ovs.PortAgent1'
E = 'org.alopex.Error.'
CONFIG = 'bridge_name = "ovsbr7"\n[bridge]\ncreate = true\ndatapath_type = "netdev"\n'


def vsctl(sb, *args):
    return ovs_vsctl(sb, CTX['dir'], *args)


def ofport(sb, name):
    return ovs_ofport(sb, CTX['dir'], name)


def ports(sb):
    return vsctl(sb, 'list-ports', 'ovsbr7').split()


def send(sb, method, *args, user=None):
    return bus.dbus_send(sb, SERVICE, PATH, IFACE, method, *args, user=user)


def gdbus(sb, method, *args):
    """The seed README's form: gdbus call --system --dest dev.ovs.PortAgent1 ..."""
    rc, out, err = sb.run(['gdbus', 'call', '--system', '--dest', SEED, '--object-path', '/dev/ovs/PortAgent1',
                           '--method', f'{SEED}.{method}', *args])
    h.check_eq(rc, 0, f'gdbus {method}: {err}')
    return out.strip()


def records(sb, prefix):
    path = os.path.join(sb.state_dir, 'ledger.jsonl')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r for r in (json.loads(l) for l in f if l.strip()) if r['action'].startswith(prefix)]


def setup(sb):
    CTX['dir'], CTX['ovsdb'] = start_stack(sb, recorders=('alopex-ovs', 'root'))
    CTX['config'] = os.path.join(sb.config_dir, 'ovs-agent.toml')
    with open(CTX['config'], 'w') as f:
        f.write(CONFIG)
    CTX['agentd'] = sb.start_daemon('daemons/ovs-agentd/alopex-ovs-agentd', as_user='alopex-ovs', notify=True,
                                    wait_name=SERVICE)
    h.check(sb.name_has_owner(SEED), f'{SEED} owned too')


@tap.test('live introspection equals ipc/org.alopex.PortAgent1.xml and ipc/dev.ovs.PortAgent1.xml')
def _(sb):
    bus.check_introspection(sb, SERVICE, PATH, IFACE, 'ipc/org.alopex.PortAgent1.xml')
    bus.check_introspection(sb, SEED, '/dev/ovs/PortAgent1', SEED, 'ipc/dev.ovs.PortAgent1.xml')
    h.check_eq(sb.get_property(SERVICE, PATH, IFACE, 'Bridge'), 'ovsbr7')
    h.check_eq(sb.get_property(SERVICE, PATH, IFACE, 'Connected'), True)
    h.check_eq(sb.get_property(SERVICE, PATH, IFACE, 'Prefixes'), ['veth', 'tap', 'vi'])


@tap.test("the seed README's gdbus lines: ping, list_ports, create_container_interface, remove_container_interface")
def _(sb):
    h.check_eq(gdbus(sb, 'ping'), "('pong',)")
    veth('veth-123-eth0', 'ct123')
    out = gdbus(sb, 'create_container_interface', 'veth-123-eth0', 'container-123', '100')
    h.check_eq(out, "('Container interface created for VMID 100',)")
    names = [l['ifname'] for l in ip_j(sb, 'link')]
    h.check('vi100' in names and 'veth-123-eth0' not in names, f'renamed to vi100 by linkd: {names}')
    h.check((ofport(sb, 'vi100') or 0) > 0, 'vi100 has an ofport when the call answers')
    h.check_eq(vsctl(sb, 'get', 'Port', 'vi100', 'external_ids:alopex-container').strip(), 'container-123')
    h.check_eq(vsctl(sb, 'get', 'Port', 'vi100', 'external_ids:alopex-vmid').strip(), '"100"')
    h.wait_until(lambda: 'veth-123-eth0' not in ports(sb), 10, 0.02, 'the raw name is no port')
    h.check_eq(gdbus(sb, 'list_ports'), "(['vi100'],)")
    h.check_eq(gdbus(sb, 'remove_container_interface', 'vi100'), "('Container interface vi100 removed',)")
    names = [l['ifname'] for l in ip_j(sb, 'link')]
    h.check('vi100' not in names and 'ct123' not in names, f'deleted with its peer: {names}')
    h.check('vi100' not in ports(sb), 'detached')
    # The names nm-monitor answered on the wire (zbus's PascalCase).
    rc, data, err = sb.call(SEED, '/dev/ovs/PortAgent1', SEED, 'Ping')
    h.check_eq((rc, data), (0, ['pong']), err)
    acts = [r['action'] for r in records(sb, 'ovs.')]
    h.check('ovs.CreateContainerInterface' in acts and 'ovs.RemoveContainerInterface' in acts, acts)


@tap.test('AttachPort: a link without a prefix, answered with its ofport; ListPorts shows it as the agent\'s')
def _(sb):
    veth('ct5', 'ct5p')
    text = bus.expect_ok(send(sb, 'AttachPort', 'string:ct5'), 'AttachPort ct5')
    port = ofport(sb, 'ct5')
    h.check(port and port > 0 and f'int64 {port}' in text, f'ofport {port} answered: {text}')
    h.check_eq(vsctl(sb, 'get', 'Port', 'ct5', 'external_ids:alopex-owner').strip(), 'ovs-agentd')
    rc, data, err = sb.call(SERVICE, PATH, IFACE, 'ListPorts')
    h.check_eq(rc, 0, err)
    h.check([p for p in data[0] if p[0] == 'ct5'] == [['ct5', True, port, -1, [], '', 0, '']], data)
    # Idempotent: attached already, answered at once with the same ofport.
    h.check(f'int64 {port}' in bus.expect_ok(send(sb, 'AttachPort', 'string:ct5'), 'again'), 'same ofport')


@tap.test('DetachPort keeps a matching link off until attached again; foreign ports are refused and stay')
def _(sb):
    veth('veth201i0', 'p201')
    h.wait_until(lambda: (ofport(sb, 'veth201i0') or 0) > 0, 10, 0.02, 'veth201i0 attached by its prefix')
    bus.expect_ok(send(sb, 'DetachPort', 'string:veth201i0'), 'DetachPort')
    h.check('veth201i0' not in ports(sb), 'off the bridge when the call answers')
    subprocess.run(['ip', 'link', 'set', 'veth201i0', 'mtu', '1400'], check=True)   # a link event
    rc, data, err = sb.call(SERVICE, PATH, IFACE, 'Plan')
    h.check_eq((rc, [c for c in data[0] if c[1] == 'veth201i0']), (0, []), f'nothing planned for it: {data}')
    h.check('veth201i0' not in ports(sb), 'still off')
    bus.expect_ok(send(sb, 'AttachPort', 'string:veth201i0'), 'AttachPort again')
    h.check('veth201i0' in ports(sb), 'back on')
    # Someone else's port on the bridge.
    veth('eth77', 'eth77p')
    vsctl(sb, 'add-port', 'ovsbr7', 'eth77')
    bus.expect_error(send(sb, 'DetachPort', 'string:eth77'), E + 'InvalidArgument', 'name:', 'not the agent')
    bus.expect_error(send(sb, 'RemoveContainerInterface', 'string:eth77'), E + 'InvalidArgument', 'name:')
    h.check('eth77' in ports(sb), 'the foreign port stays')
    bus.expect_error(send(sb, 'AttachPort', 'string:nosuch0'), E + 'NoSuchLink', 'name: no link nosuch0')
    bus.expect_error(send(sb, 'AttachPort', 'string:a/b'), E + 'InvalidArgument', 'name:')
    bus.expect_error(send(sb, 'CreateContainerInterface', 'string:ct5', 'string:x y', 'uint32:100'),
                     E + 'InvalidArgument', 'container_id:')
    bus.expect_error(send(sb, 'CreateContainerInterface', 'string:ct5', 'string:c1', 'uint32:7'),
                     E + 'InvalidArgument', 'vmid:')
    veth('ct6', 'ct6p')
    bus.expect_error(send(sb, 'AttachPort', 'string:ct6', user='alopex-test'), E + 'NotAuthorized')
    h.check('ct6' not in ports(sb), 'refused: nothing attached')
    acts = [r['action'] for r in records(sb, 'ovs.')]
    h.check(acts.count('ovs.AttachPort') >= 3 and 'ovs.DetachPort' in acts, acts)


def alopexctl(sb, *args, user=None):
    return sb.run([sb.build_path('tools/alopexctl/alopexctl'), *args], as_user=user)


@tap.test('alopexctl ovs: attach several, ports, plan, detach, create-interface; unprivileged refused')
def _(sb):
    veth('cx1', 'cx1p')
    veth('cx2', 'cx2p')
    rc, out, err = alopexctl(sb, '-t', 'ovs', 'attach', 'cx1', 'cx2', 'nosuch9')
    h.check_eq(rc, 3, f'one name refused: exit 3, nothing attached ({out} {err})')
    h.check('cx1' not in ports(sb), 'nothing attached')
    rc, out, err = alopexctl(sb, '-t', 'ovs', 'attach', 'cx1', 'cx2')
    h.check_eq(rc, 0, err)
    lines = dict(l.split(':', 1) for l in out.splitlines())
    h.check_eq(sorted(lines), ['cx1', 'cx2'], out)
    h.check(all(int(v.split(':')[0]) == ofport(sb, k) for k, v in lines.items()), f'the ofports ovs-vsctl has: {out}')
    rc, out, err = alopexctl(sb, '--json', 'ovs', 'ports', user='alopex-test')
    h.check_eq(rc, 0, err)
    got = {p['port']: p for p in json.loads(out)['ports']}
    h.check(got['cx1']['agent'] and got['cx1']['ofport'] == ofport(sb, 'cx1'), got.get('cx1'))
    h.check_eq(sorted(got), sorted(ports(sb)), 'the ports ovs-vsctl lists')
    rc, out, err = alopexctl(sb, '-t', 'ovs', 'plan', user='alopex-test')
    h.check_eq((rc, out), (0, ''), f'nothing to do: {err}')
    rc, out, err = alopexctl(sb, 'ovs', 'detach', 'cx2', user='alopex-test')
    h.check_eq(rc, 3, f'unprivileged: refused ({err})')
    h.check('NotAuthorized' in err or 'not authorized' in err, err)
    h.check('cx2' in ports(sb), 'still attached')
    rc, _, err = alopexctl(sb, 'ovs', 'detach', 'cx2')
    h.check_eq(rc, 0, err)
    h.check('cx2' not in ports(sb), 'detached')
    veth('veth-555-eth0', 'ct555')
    rc, out, err = alopexctl(sb, '-t', 'ovs', 'create-interface', 'veth-555-eth0', 'ct-555', '555')
    h.check_eq(rc, 0, err)
    h.check_eq(out.split(':')[0], 'vi555', out)
    h.check((ofport(sb, 'vi555') or 0) > 0, 'vi555 attached')
    rc, _, err = alopexctl(sb, 'ovs', 'remove-interface', 'vi555')
    h.check_eq(rc, 0, err)
    h.check('vi555' not in [l['ifname'] for l in ip_j(sb, 'link')], 'vi555 deleted')


@tap.test('traffic between two namespaces across the bridge')
def _(sb):
    first = two_namespaces(sb)
    h.wait_until(lambda: all((ofport(sb, p) or 0) > 0 for p in ('veth900i0', 'veth901i0')), 10, 0.02, 'both attached')
    rc, out = ping_from(sb, first, '10.77.0.2')
    h.check_eq(rc, 0, f'ping across ovsbr7: {out}')


@tap.test('ovsdb-server stopped mid-transaction: the loop keeps serving D-Bus; resumed, the attach completes')
def _(sb):
    def transactions():
        return sb.get_property(SERVICE, PATH, IFACE, 'Counters')['transactions']
    before = transactions()
    os.kill(CTX['ovsdb'].pid, signal.SIGSTOP)
    try:
        veth('cz1', 'cz1p')
        # An attach whose transaction cannot be answered: its reply waits ...
        pending = subprocess.Popen(['dbus-send', f'--bus={sb.bus_address}', f'--dest={SERVICE}', '--print-reply',
                                    '--reply-timeout=30000', PATH, f'{IFACE}.AttachPort', 'string:cz1'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        h.wait_until(lambda: transactions() > before, 10, 0.02, 'its transaction sent')
        # ... while every other call is answered at once.
        t0 = time.monotonic()
        h.check_eq(gdbus(sb, 'ping'), "('pong',)")
        rc, data, err = sb.call(SERVICE, PATH, IFACE, 'ListPorts')
        h.check_eq(rc, 0, err)
        rc, data, err = sb.call(SERVICE, PATH, IFACE, 'Version')
        h.check_eq(rc, 0, err)
        h.check(time.monotonic() - t0 < 3, f'answered in {time.monotonic() - t0:.2f}s')
        h.check(pending.poll() is None, 'the attach still waits for ovsdb-server')
    finally:
        os.kill(CTX['ovsdb'].pid, signal.SIGCONT)
    out, err = pending.communicate(timeout=20)
    h.check_eq(pending.returncode, 0, f'the attach completed once ovsdb-server went on: {err}')
    h.check(f'int64 {ofport(sb, "cz1")}' in out, out)


@tap.test('enable_rename: an LXC veth is named by the template with container_name_cmd\'s answer, else its VMID')
def _(sb):
    script = sb.path('name-of-container')
    with open(script, 'w') as f:   # argv: {vmid} {ifname}
        f.write('#!/bin/sh\ncase "$1" in\n301) echo web; echo second line ;;\n302) echo "bad name!" ;;\n'
                '303) sleep 10 ;;\n*) exit 3 ;;\nesac\n')
    os.chmod(script, 0o755)
    with open(CTX['config'], 'w') as f:
        f.write(f'bridge_name = "ovsbr7"\nenable_rename = true\nnaming_template = "ct{{container}}_{{index}}"\n'
                f'container_name_cmd = ["{script}", "{{vmid}}", "{{ifname}}"]\n'
                '[bridge]\ncreate = true\ndatapath_type = "netdev"\n')
    bus.expect_ok(send(sb, 'Reload'), 'Reload')
    for raw, peer in (('veth301i1', 'p301'), ('veth302i0', 'p302'), ('veth303i0', 'p303'), ('veth304i2', 'p304')):
        veth(raw, peer)
    want = {'ctweb_1': 'web', 'ct302_0': '302', 'ct303_0': '303', 'ct304_2': '304'}
    for name, container in want.items():
        h.wait_until(lambda: (ofport(sb, name) or 0) > 0, 10, 0.05, f'{name} renamed and attached')
        h.check_eq(vsctl(sb, 'get', 'Port', name, 'external_ids:alopex-container').strip().strip('"'), container)
    names = [l['ifname'] for l in ip_j(sb, 'link')]
    h.check(not any(n.startswith('veth30') for n in names), f'no raw names left: {names}')
    h.check_eq(vsctl(sb, 'get', 'Port', 'ctweb_1', 'external_ids:alopex-vmid').strip(), '"301"')
    renames = [json.loads(r['details']) for r in records(sb, 'ovs.rename')]
    h.check({'from': 'veth301i1', 'to': 'ctweb_1'} in renames, renames)
    with open(CTX['config'], 'w') as f:
        f.write(CONFIG)
    bus.expect_ok(send(sb, 'Reload'), 'Reload')


@tap.test('alopex-ovs-hook: a Proxmox post-start attaches the guest\'s interfaces; an OCI poststart the container\'s')
def _(sb):
    with open(CTX['config'], 'w') as f:   # nothing attached without asking
        f.write('bridge_name = "ovsbr7"\ninclude_prefixes = ["zz"]\n[bridge]\ncreate = true\ndatapath_type = "netdev"\n')
    bus.expect_ok(send(sb, 'Reload'), 'Reload')
    hook = sb.build_path('tools/ovs-hook/alopex-ovs-hook')
    veth('veth777i0', 'p777')
    subprocess.run(['ip', 'tuntap', 'add', 'tap777i1', 'mode', 'tap'], check=True)
    veth('veth7770i0', 'p7770')   # another guest's
    rc, out, err = sb.run([hook, '777', 'pre-start'])
    h.check_eq((rc, out), (0, ''), err)
    h.check('veth777i0' not in ports(sb), 'pre-start attaches nothing')
    rc, out, err = sb.run([hook, '777', 'post-start'])
    h.check_eq(rc, 0, err)
    for name in ('veth777i0', 'tap777i1'):
        h.check((ofport(sb, name) or 0) > 0 and f'{name} ofport {ofport(sb, name)}' in out, f'{name}: {out}')
    h.check('veth7770i0' not in ports(sb), "another guest's interface is left alone")
    rc, _, err = sb.run([hook, '77', 'post-start'])
    h.check_eq(rc, 2, err)
    h.check('VMID' in err, err)
    # OCI (podman's poststart): the host end of the container's veth.
    holder = netns_holder(sb, 'oci-container')
    subprocess.run(['ip', 'link', 'add', 'ocih0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', str(holder.pid)],
                   check=True)
    state = json.dumps({'ociVersion': '1.0.2', 'id': 'c0ffee', 'status': 'running', 'pid': holder.pid,
                        'bundle': '/nonexistent'})
    rc, out, err = sb.run([hook, 'oci'], input=state)
    h.check_eq(rc, 0, err)
    h.check((ofport(sb, 'ocih0') or 0) > 0, f'ocih0 attached: {out}')
    rc, _, err = sb.run([hook, 'oci'], input='{"id": "c0ffee", "status": "running"')
    h.check_eq(rc, 1, err)
    h.check('not a JSON object' in err, err)
    with open(CTX['config'], 'w') as f:
        f.write(CONFIG)
    bus.expect_ok(send(sb, 'Reload'), 'Reload')


@tap.test('Reload and SIGHUP: new prefixes at once, the bridge at the next start, a bad file refused')
def _(sb):
    veth('ctr1', 'ctr1p')
    with open(CTX['config'], 'w') as f:
        f.write('bridge_name = "ovsbr8"\ninclude_prefixes = ["veth", "ctr"]\n[bridge]\ncreate = true\n'
                'datapath_type = "netdev"\n')
    text = bus.expect_ok(send(sb, 'Reload'), 'Reload')
    h.check('bridge_name' in text, f'the bridge waits for a restart: {text}')
    h.wait_until(lambda: (ofport(sb, 'ctr1') or 0) > 0, 10, 0.02, 'ctr1 attached on ovsbr7 by the new prefix')
    h.check_eq(sb.get_property(SERVICE, PATH, IFACE, 'Bridge'), 'ovsbr7', 'still ovsbr7')
    with open(CTX['config'], 'w') as f:
        f.write('bridge_name = "ovsbr7"\ninclude_prefixes = ["veth", "ctr", "cts"]\n[bridge]\ncreate = true\n'
                'datapath_type = "netdev"\n')
    veth('cts1', 'cts1p')
    os.kill(CTX['agentd'].pid, signal.SIGHUP)
    h.wait_until(lambda: (ofport(sb, 'cts1') or 0) > 0, 10, 0.02, 'cts1 attached after SIGHUP')
    with open(CTX['config'], 'w') as f:
        f.write('bridge_name = "ovsbr7"\ndebounce_ms = -1\n')
    bus.expect_error(send(sb, 'Reload'), E + 'InvalidArgument', f"{CTX['config']}:2:")
    veth('ctr2', 'ctr2p')
    h.wait_until(lambda: (ofport(sb, 'ctr2') or 0) > 0, 10, 0.02, 'the running prefixes kept: ctr2 attached')
    bus.expect_error(send(sb, 'Reload', user='alopex-test'), E + 'NotAuthorized')


@tap.test('the ledger holds the agent\'s actions and its hash chain verifies (alopexctl ledger verify)')
def _(sb):
    acts = {r['action'] for r in records(sb, 'ovs.')}
    for a in ('ovs.attach', 'ovs.detach', 'ovs.AttachPort', 'ovs.DetachPort', 'ovs.CreateContainerInterface',
              'ovs.RemoveContainerInterface', 'ovs.Reload', 'ovs.rename', 'ovs.bridge.create'):
        h.check(a in acts, f'{a} in {sorted(acts)}')
    rc, out, err = alopexctl(sb, 'ledger', 'verify', '--file', os.path.join(sb.state_dir, 'ledger.jsonl'))
    h.check_eq(rc, 0, f'{out} {err}')


h.main(tap, setup)
