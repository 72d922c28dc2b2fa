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
from ovs_env import gateway, ping_from, start_stack, two_namespaces  # noqa: E402
from ovs_env import ofport as ovs_ofport  # noqa: E402
from ovs_env import vsctl as ovs_vsctl  # noqa: E402

tap = h.Tap()
CTX = {}
SERVICE, PATH, IFACE = 'org.alopex.PortAgent1', '/org/alopex/PortAgent1', 'org.alopex.PortAgent1'


def vsctl(sb, *args):
    return ovs_vsctl(sb, CTX['dir'], *args)


def ofport(sb, name):
    return ovs_ofport(sb, CTX['dir'], name)


def dpctl(sb):
    rc, out, err = sb.run(['ovs-dpctl', 'show'], env=sb.env({'OVS_RUNDIR': CTX['dir']}))
    h.check_eq(rc, 0, f'ovs-dpctl show: {err}')
    return out


def nic_view():
    return tuple(json.loads(subprocess.run(['ip', '-j', *args, 'dev', 'upl0'], check=True, capture_output=True,
                                           text=True).stdout) for args in (('addr', 'show'), ('route', 'show')))


def setup(sb):
    CTX['dir'], _ = start_stack(sb, system=True)
    with open(os.path.join(sb.config_dir, 'ovs-agent.toml'), 'w') as f:
        f.write('bridge_name = "ovsk0"\n[bridge]\ncreate = true\ndatapath_type = "system"\n')
    sb.start_daemon('daemons/ovs-agentd/alopex-ovs-agentd', as_user='alopex-ovs', notify=True, wait_name=SERVICE,
                    timeout=60, watchdog_usec=5000000)


@tap.test('veths attached to a bridge of the kernel datapath: ovs-dpctl has them, the namespaces ping each other',
          vm=True)
def _(sb):
    first = two_namespaces(sb)
    h.wait_until(lambda: all((ofport(sb, p) or 0) > 0 for p in ('veth900i0', 'veth901i0')), 20, 0.05, 'both attached')
    dp = dpctl(sb)
    h.check('system@ovs-system' in dp and 'veth900i0' in dp and 'veth901i0' in dp, dp)
    rc, out = ping_from(sb, first, '10.77.0.2')
    h.check_eq(rc, 0, f'ping through the kernel datapath: {out}')


@tap.test('a veth that goes is detached from the bridge and the datapath', vm=True)
def _(sb):
    subprocess.run(['ip', 'link', 'del', 'veth901i0'], check=True)
    h.wait_until(lambda: 'veth901i0' not in vsctl(sb, 'list-ports', 'ovsk0').split(), 20, 0.05, 'detached')
    h.wait_until(lambda: 'veth901i0' not in dpctl(sb), 20, 0.05, 'out of the datapath')


@tap.test('MigrateUplink on the kernel datapath: the gateway answers through the bridge; not confirmed, '
          'the NIC comes back as it was', vm=True)
def _(sb):
    gateway(sb, 'upl0', brd=True)
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
