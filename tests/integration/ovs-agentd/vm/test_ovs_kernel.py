#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-ovs-agentd on the kernel's datapath (openvswitch.ko), in the test VM: as
alopex-ovs beside the real broker, linkd and polkitd, with ovsdb-server and ovs-vswitchd
(the kernel datapath enabled) and a bridge of datapath "system" the agent creates. Two
veths whose peers sit in two namespaces are attached at once: the kernel's datapath has
them (`ovs-dpctl show`) and the namespaces ping each other through it; a veth that goes is
detached from the bridge and the datapath. Then MigrateUplink moves a NIC (a veth to a
gateway namespace) with its address and default route behind the bridge: the gateway
answers through the kernel's datapath; not confirmed, it comes back at the deadline as
`ip -j` showed it, and the bridge is gone."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import alopex_dbus as bus  # noqa: E402
import alopex_harness as h  # noqa: E402
from alopex_peer import in_ns, netns_holder  # noqa: E402
from ovs_env import create_db, start_ovsdb, start_vswitchd  # noqa: E402
from ovs_env import vsctl as ovs_vsctl  # noqa: E402

tap = h.Tap()
CTX = {}
SERVICE, PATH, IFACE = 'org.alopex.PortAgent1', '/org/alopex/PortAgent1', 'org.alopex.PortAgent1'


def vsctl(sb, *args):
    return ovs_vsctl(sb, CTX['dir'], *args)


def ofport(sb, name):
    out = vsctl(sb, '--if-exists', 'get', 'Interface', name, 'ofport').strip()
    return int(out) if out not in ('', '[]') else None


def dpctl(sb):
    rc, out, err = sb.run(['ovs-dpctl', 'show'], env=sb.env({'OVS_RUNDIR': CTX['dir']}))
    h.check_eq(rc, 0, f'ovs-dpctl show: {err}')
    return out


def nic_view():
    return tuple(json.loads(subprocess.run(['ip', '-j', *args, 'dev', 'upl0'], check=True, capture_output=True,
                                           text=True).stdout) for args in (('addr', 'show'), ('route', 'show')))


def setup(sb):
    sb.start_bus()
    subprocess.run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
                   check=True)
    sb.start_polkit()
    CTX['dir'] = create_db(sb)
    start_ovsdb(sb, CTX['dir'])
    vsctl(sb, 'init')
    start_vswitchd(sb, CTX['dir'], system=True)
    sb.start_broker(f'[ovsdb]\nsocket = "{CTX["dir"]}/db.sock"\ncallers = ["alopex-ovs"]\n\n'
                    '[record]\ncallers = ["alopex-ovs"]\n')
    sb.start_daemon('daemons/linkd/alopex-linkd', wait_name='org.alopex.Link1', notify=True, watchdog_usec=5000000)
    with open(os.path.join(sb.config_dir, 'ovs-agent.toml'), 'w') as f:
        f.write('bridge_name = "ovsk0"\n[bridge]\ncreate = true\ndatapath_type = "system"\n')
    sb.start_daemon('daemons/ovs-agentd/alopex-ovs-agentd', as_user='alopex-ovs', notify=True, wait_name=SERVICE,
                    timeout=60, watchdog_usec=5000000)


@tap.test('veths attached to a bridge of the kernel datapath: ovs-dpctl has them, the namespaces ping each other',
          vm=True)
def _(sb):
    holders = {}
    for n, port, addr in (('a', 'veth900i0', '10.77.0.1/24'), ('b', 'veth901i0', '10.77.0.2/24')):
        holders[n] = netns_holder(sb, f'ns-{n}')
        subprocess.run(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', f'c{n}', 'netns',
                        str(holders[n].pid)], check=True)
        in_ns(holders[n], 'ip', 'addr', 'add', addr, 'dev', f'c{n}')
        in_ns(holders[n], 'ip', 'link', 'set', f'c{n}', 'up')
        subprocess.run(['ip', 'link', 'set', port, 'up'], check=True)
    h.wait_until(lambda: all((ofport(sb, p) or 0) > 0 for p in ('veth900i0', 'veth901i0')), 20, 0.05, 'both attached')
    dp = dpctl(sb)
    h.check('system@ovs-system' in dp and 'veth900i0' in dp and 'veth901i0' in dp, dp)
    rc, out, err = sb.run(['nsenter', '-t', str(holders['a'].pid), '-n', 'busybox', 'ping', '-c', '3', '-W', '2',
                           '10.77.0.2'])
    h.check_eq(rc, 0, f'ping through the kernel datapath: {out} {err}')


@tap.test('a veth that goes is detached from the bridge and the datapath', vm=True)
def _(sb):
    subprocess.run(['ip', 'link', 'del', 'veth901i0'], check=True)
    h.wait_until(lambda: 'veth901i0' not in vsctl(sb, 'list-ports', 'ovsk0').split(), 20, 0.05, 'detached')
    h.wait_until(lambda: 'veth901i0' not in dpctl(sb), 20, 0.05, 'out of the datapath')


@tap.test('MigrateUplink on the kernel datapath: the gateway answers through the bridge; not confirmed, '
          'the NIC comes back as it was', vm=True)
def _(sb):
    gw = netns_holder(sb, 'gateway')
    subprocess.run(['ip', 'link', 'add', 'upl0', 'type', 'veth', 'peer', 'name', 'gw0', 'netns', str(gw.pid)],
                   check=True)
    in_ns(gw, 'ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'gw0')
    in_ns(gw, 'ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'lo')
    in_ns(gw, 'ip', 'link', 'set', 'gw0', 'up')
    in_ns(gw, 'ip', 'link', 'set', 'lo', 'up')
    subprocess.run(['ip', 'addr', 'add', '10.88.0.2/24', 'brd', '+', 'dev', 'upl0'], check=True)
    subprocess.run(['ip', 'link', 'set', 'upl0', 'up'], check=True)
    subprocess.run(['ip', 'route', 'add', 'default', 'via', '10.88.0.1', 'dev', 'upl0', 'proto', 'static'], check=True)
    before = nic_view()
    bus.expect_ok(bus.dbus_send(sb, SERVICE, PATH, IFACE, 'MigrateUplink', 'string:ovsk0', 'string:upl0',
                                'uint32:10'), 'MigrateUplink')
    rc, out, err = sb.run(['busybox', 'ping', '-c', '3', '-W', '2', '10.99.0.1'])
    h.check_eq(rc, 0, f'the gateway through the bridge: {out} {err}')
    h.check('upl0' in dpctl(sb), 'the NIC is a port of the kernel datapath')
    h.wait_until(lambda: 'upl0' not in vsctl(sb, 'list-ports', 'ovsk0').split(), 30, 0.1, 'rolled back')
    h.wait_until(lambda: nic_view() == before, 10, 0.1, 'the NIC as before')
    rc, out, err = sb.run(['busybox', 'ping', '-c', '3', '-W', '2', '10.99.0.1'])
    h.check_eq(rc, 0, f'the gateway after the rollback: {out} {err}')


h.main(tap, setup)
