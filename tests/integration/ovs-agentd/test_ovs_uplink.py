#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-ovs-agentd's MigrateUplink (issue 13): the host's NIC (a veth whose peer, in a
"gateway" namespace, holds 10.88.0.1) moved behind the agent's bridge with the real
alopex-linkd doing the address and route moves inside its checkpoint, ovsdb-server and
ovs-vswitchd (userspace datapath), polkitd and the broker: afterwards the address and the
routes are on the bridge's internal interface, and so are the NIC's DNS servers and
domains (linkd's SetDNS: the NIC has none meanwhile), the NIC is a port, and pings to the
gateway flow across the move (through ovs-vswitchd). Not confirmed, it is rolled back at
the deadline even by an agent killed and started again meanwhile: the NIC's addresses and
routes come back as `ip -j` showed them before, byte for byte, its DNS as linkd had it, and
no Open vSwitch object is left. Confirmed (alopexctl ovs uplink, then alopexctl checkpoint confirm: linkd's
CheckpointConfirm), it stays and the mark goes. Bad
arguments are refused naming them, an unprivileged caller is NotAuthorized."""
import json
import os
import signal
import subprocess
import time

import alopex_dbus as bus
import alopex_harness as h
from alopex_kernel import ip_j
from ovs_env import gateway, start_stack
from ovs_env import vsctl as ovs_vsctl

tap = h.Tap()
CTX = {}
SERVICE, PATH, IFACE = 'org.alopex.PortAgent1', '/org/alopex/PortAgent1', 'org.alopex.PortAgent1'
E = 'org.alopex.Error.'
TIMEOUT = 10


def vsctl(sb, *args):
    return ovs_vsctl(sb, CTX['dir'], *args)


def send(sb, method, *args, user=None):
    return bus.dbus_send(sb, SERVICE, PATH, IFACE, method, *args, user=user)


def bridge_exists(sb):
    rc, _, _ = sb.run(['ovs-vsctl', f"--db=unix:{CTX['dir']}/db.sock", 'br-exists', 'ovsbr5'])
    return rc == 0


def nic_view():
    """The NIC as `ip -j` shows it: its addresses and its routes."""
    addr = json.loads(subprocess.run(['ip', '-j', 'addr', 'show', 'dev', 'upl0'], check=True, capture_output=True,
                                     text=True).stdout)
    routes = json.loads(subprocess.run(['ip', '-j', 'route', 'show', 'dev', 'upl0'], check=True,
                                       capture_output=True, text=True).stdout)
    return addr, routes


def start_agent(sb, n):
    return sb.start_daemon('daemons/ovs-agentd/alopex-ovs-agentd', name=f'alopex-ovs-agentd-{n}',
                           as_user='alopex-ovs', notify=True, wait_name=SERVICE)


def migrate(sb):
    ok, _, text = send(sb, 'MigrateUplink', 'string:ovsbr5', 'string:upl0', f'uint32:{TIMEOUT}')
    h.check(ok, f'MigrateUplink: {text}')
    checkpoint = text.split('object path "')[1].split('"')[0]
    h.check(checkpoint.startswith('/org/alopex/Link1/checkpoint'), text)
    h.check('string "ovsbr5"' in text, text)
    return checkpoint


def dns_of(sb, ifname):
    """(DNSServers, DNSDomains) of the link as alopex-linkd publishes them."""
    index = ip_j(sb, 'link', 'show', 'dev', ifname)[0]['ifindex']
    path = f'/org/alopex/Link1/link/{index}'
    return tuple(sb.get_property('org.alopex.Link1', path, 'org.alopex.Link1.Link', p)
                 for p in ('DNSServers', 'DNSDomains'))


NIC_DNS = (['10.88.0.53'], ['lab.example'])


def setup(sb):
    CTX['dir'], _ = start_stack(sb, recorders=('alopex-ovs', 'root'))
    gateway(sb, 'upl0')
    subprocess.run(['ip', 'route', 'add', '10.99.0.0/24', 'via', '10.88.0.1', 'dev', 'upl0', 'metric', '50',
                    'proto', 'static'], check=True)
    with open(os.path.join(sb.config_dir, 'ovs-agent.toml'), 'w') as f:
        f.write('bridge_name = "ovsbr5"\n[bridge]\ndatapath_type = "netdev"\n')
    CTX['agentd'] = start_agent(sb, 1)


def ping(sb, count=3, target='10.99.0.1'):
    rc, out, err = sb.run(['busybox', 'ping', '-c', str(count), '-W', '2', target])
    return rc == 0


@tap.test('bad arguments are refused naming them; an unprivileged caller is NotAuthorized; nothing changes')
def _(sb):
    before = nic_view()
    bus.expect_error(send(sb, 'MigrateUplink', 'string:ovsbr9', 'string:upl0', 'uint32:10'), E + 'InvalidArgument',
                     'bridge:')
    bus.expect_error(send(sb, 'MigrateUplink', 'string:ovsbr5', 'string:nosuch0', 'uint32:10'), E + 'NoSuchLink',
                     'nic:')
    bus.expect_error(send(sb, 'MigrateUplink', 'string:ovsbr5', 'string:lo', 'uint32:10'), E + 'InvalidArgument',
                     'nic:')
    bus.expect_error(send(sb, 'MigrateUplink', 'string:ovsbr5', 'string:upl0', 'uint32:5'), E + 'InvalidArgument',
                     'timeout_s:')
    bus.expect_error(send(sb, 'MigrateUplink', 'string:ovsbr5', 'string:upl0', 'uint32:10', user='alopex-test'),
                     E + 'NotAuthorized')
    h.check_eq(nic_view(), before, 'the NIC as it was')
    h.check(not bridge_exists(sb), 'no bridge made')


@tap.test('moved: the address and routes on the internal interface, the NIC a port, traffic across the move; '
          'not confirmed, rolled back byte for byte by a restarted agent, no OVS object left')
def _(sb):
    index = ip_j(sb, 'link', 'show', 'dev', 'upl0')[0]['ifindex']
    rc, _, err = sb.busctl('call', 'org.alopex.Link1', '/org/alopex/Link1', 'org.alopex.Link1.Manager', 'SetDNS',
                           'iasas', str(index), '1', *NIC_DNS[0], '1', *NIC_DNS[1])
    h.check_eq(rc, 0, f'SetDNS on the NIC: {err}')
    h.wait_until(lambda: dns_of(sb, 'upl0') == NIC_DNS, 10, 0.05, 'the NIC\'s DNS in linkd')
    before = nic_view()
    h.check(ping(sb, 1), 'the gateway answers before')
    pinger = subprocess.Popen(['busybox', 'ping', '-i', '0.1', '-w', '6', '10.99.0.1'], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=sb.env())
    time.sleep(1)
    migrate(sb)
    out, _ = pinger.communicate(timeout=20)
    replies = [l for l in out.splitlines() if 'bytes from 10.99.0.1' in l]
    h.check(len(replies) >= 40, f'pings across the move (~60 sent over 6 s): {len(replies)} answered\n{out[-400:]}')
    addrs = {a['ifname']: [i['local'] for i in a.get('addr_info', []) if i['family'] == 'inet'] for a in ip_j(sb, 'addr')}
    h.check_eq(addrs.get('ovsbr5'), ['10.88.0.2'], f'the address on the internal interface: {addrs}')
    h.check_eq(addrs.get('upl0'), [], 'none left on the NIC')
    routes = {(r['dst'], r.get('gateway'), r['dev']) for r in ip_j(sb, 'route')}
    h.check(('default', '10.88.0.1', 'ovsbr5') in routes and ('10.99.0.0/24', '10.88.0.1', 'ovsbr5') in routes,
            routes)
    h.check('upl0' in vsctl(sb, 'list-ports', 'ovsbr5').split(), 'the NIC is a port')
    h.check('alopex-migration' in vsctl(sb, 'get', 'Bridge', 'ovsbr5', 'external_ids'), 'the mark')
    h.check_eq(dns_of(sb, 'ovsbr5'), NIC_DNS, 'the DNS on the internal interface')
    h.check_eq(dns_of(sb, 'upl0'), ([], []), 'no DNS left on the NIC')
    # The agent crashes; the one started after it still rolls back at the deadline.
    os.kill(CTX['agentd'].pid, signal.SIGKILL)
    CTX['agentd'].popen.wait(10)
    CTX['agentd'] = start_agent(sb, 2)
    h.wait_until(lambda: not bridge_exists(sb), TIMEOUT + 10, 0.1, 'the bridge gone at the deadline')
    try:
        h.wait_until(lambda: nic_view() == before, 10, 0.1, 'the NIC as before')
    finally:
        h.check_eq(nic_view(), before, 'ip -j addr and route of the NIC, byte for byte')
    h.check_eq(vsctl(sb, 'list-br').split(), [], 'no Open vSwitch object left')
    h.check_eq(dns_of(sb, 'upl0'), NIC_DNS, 'the DNS back on the NIC')
    h.check(ping(sb), 'the gateway answers after the rollback')


@tap.test('alopexctl ovs uplink, confirmed with alopexctl checkpoint confirm: it stays past the deadline, the mark '
          'goes, the ledger has it')
def _(sb):
    ctl = sb.build_path('tools/alopexctl/alopexctl')
    rc, out, err = sb.run([ctl, '-t', 'ovs', 'uplink', 'ovsbr5', 'upl0', str(TIMEOUT)])
    h.check_eq(rc, 0, err)
    checkpoint, interface, _ = out.strip().split(':')
    h.check_eq(interface, 'ovsbr5', out)
    rc, _, err = sb.run([ctl, 'checkpoint', 'confirm', checkpoint])
    h.check_eq(rc, 0, err)
    h.wait_until(lambda: 'alopex-migration' not in vsctl(sb, 'get', 'Bridge', 'ovsbr5', 'external_ids'),
                 TIMEOUT + 10, 0.1, 'the mark cleared at the deadline')
    h.check('upl0' in vsctl(sb, 'list-ports', 'ovsbr5').split(), 'the NIC still a port')
    addrs = {a['ifname']: [i['local'] for i in a.get('addr_info', []) if i['family'] == 'inet'] for a in ip_j(sb, 'addr')}
    h.check_eq(addrs.get('ovsbr5'), ['10.88.0.2'], 'the address stays on the internal interface')
    h.check_eq(dns_of(sb, 'ovsbr5'), NIC_DNS, 'and the DNS')
    h.check(ping(sb), 'the gateway answers through the bridge')
    with open(os.path.join(sb.state_dir, 'ledger.jsonl')) as f:
        actions = [json.loads(l)['action'] for l in f if l.strip()]
    for a in ('ovs.MigrateUplink', 'ovs.uplink.migrate', 'ovs.uplink.rollback', 'ovs.uplink.confirmed'):
        h.check(a in actions, f'{a} in the ledger: {actions}')
    bus.expect_error(send(sb, 'MigrateUplink', 'string:ovsbr5', 'string:upl0', 'uint32:10'), E + 'InvalidArgument',
                     'nic:')


h.main(tap, setup)
